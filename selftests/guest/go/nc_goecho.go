// SPDX-License-Identifier: GPL-2.0
//
// nc_goecho: a Go program for test_programs. Go's runtime makes its own
// system calls (no libc: the preload library cannot convert its sockets),
// sets TCP_NODELAY and keepalive on every connection, and uses non-blocking
// sockets with epoll, so it checks that `ncload enable` converts what such
// a program opens and that the sockets behave as TCP's.
//
//	nc_goecho server ADDR:PORT      echo every connection back, until killed
//	nc_goecho client ADDR:PORT IN OUT
//	                                 send file IN, write the echo to OUT
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func usage() {
	fmt.Fprintf(os.Stderr, "Usage: nc_goecho server ADDR:PORT\n"+
		"       nc_goecho client ADDR:PORT IN OUT\n"+
		"server: echo every connection back until killed.\n"+
		"client: send file IN over one connection, half-close, and write\n"+
		"what comes back to OUT; exit 0 once the server closed.\n")
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "nc_goecho:", err)
	os.Exit(1)
}

func server(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		die(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			die(err)
		}
		go func(c net.Conn) {
			defer c.Close()
			if _, err := io.Copy(c, c); err != nil {
				fmt.Fprintln(os.Stderr, "nc_goecho: echo:", err)
			}
		}(c)
	}
}

func client(addr, in, out string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		die(err)
	}
	f, err := os.Open(in)
	if err != nil {
		die(err)
	}
	o, err := os.Create(out)
	if err != nil {
		die(err)
	}
	sent := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, f)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		sent <- err
	}()
	if _, err := io.Copy(o, c); err != nil {
		die(err)
	}
	if err := <-sent; err != nil {
		die(err)
	}
	if err := o.Close(); err != nil {
		die(err)
	}
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "server":
		server(os.Args[2])
	case len(os.Args) == 5 && os.Args[1] == "client":
		client(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 2 && (os.Args[1] == "--help" || os.Args[1] == "-h"):
		usage()
	default:
		usage()
		os.Exit(2)
	}
}
