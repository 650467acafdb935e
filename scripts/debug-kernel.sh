#!/usr/bin/env bash
# Build (once) and locate the NetChannel debug kernel: Debian's linux-source-6.12
# with x86_64 defconfig + kvm_guest.config + scripts/debug-kernel.config (KASAN,
# lockdep, kmemleak, ...). See --help.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FRAG=$ROOT/scripts/debug-kernel.config
CACHE=${NC_DEBUG_CACHE:-/var/cache/netchannel}
TARBALL=${NC_DEBUG_TARBALL:-$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)}
JOBS=${NC_DEBUG_JOBS:-$(nproc)}

die() { echo "debug-kernel: $*" >&2; exit 1; }
note() { echo "debug-kernel: $*" >&2; }

usage() {
	cat <<'EOT'
Usage: scripts/debug-kernel.sh [build|dir|kver]

  build  (default) build the debug kernel unless it is cached; print its directory
  dir    print the cached kernel's directory; fail if it is not built
  kver   print the cached kernel's release string (uname -r in the guest)

The kernel tree is cached in $NC_DEBUG_CACHE (default /var/cache/netchannel) under
debug-<linux-source version>-<hash of the config fragment>, so only the first run on
a machine pays for the build (about 40-80 minutes on 2 cores). When the fragment
changes, the new build starts from the cached one and rebuilds only what the
changed options touch. The directory holds
the built source tree (src/, usable as KDIR for out-of-tree modules), bzImage,
modules installed under mods/lib/modules/<kver>/ and a 'done' stamp.
Environment: NC_DEBUG_CACHE, NC_DEBUG_JOBS (default nproc), NC_DEBUG_TARBALL.
EOT
}

cmd=${1:-build}
case $cmd in
-h | --help) usage; exit 0 ;;
build | dir | kver) ;;
*) die "unknown command '$cmd' (try --help)" ;;
esac

[ -n "$TARBALL" ] && [ -r "$TARBALL" ] || die "no /usr/src/linux-source-6.12.tar.* (run scripts/deps.sh)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %Y "$TARBALL")
hash=$(sha256sum < "$FRAG" | cut -c1-12)
DIR=$CACHE/debug-$srcver-$hash

if [ "$cmd" != build ]; then
	[ -f "$DIR/done" ] || die "not built: $DIR (run scripts/debug-kernel.sh build)"
	if [ "$cmd" = dir ]; then echo "$DIR"; else cat "$DIR/kver"; fi
	exit 0
fi

mkdir -p "$CACHE"
exec 9> "$CACHE/lock"
flock 9
if [ -f "$DIR/done" ]; then echo "$DIR"; exit 0; fi

t0=$(date +%s)
note "building the debug kernel in $DIR (first run on this machine; -j$JOBS)"
rm -rf "$DIR"
mkdir -p "$DIR"
# A finished build of the same source with another fragment is the starting
# point when there is one: Kbuild tracks which objects read which option
# (fixdep), so only what the changed options touch is rebuilt.
base=$(find "$CACHE" -mindepth 2 -maxdepth 2 -path "$CACHE/debug-$srcver-*/done" \
	-printf '%h\n' 2>/dev/null | head -n 1)
if [ -n "$base" ]; then
	note "starting from $base (an incremental build)"
	cp -a "$base/src" "$DIR/src"
else
	tar -C "$DIR" -xf "$TARBALL"
	mv "$DIR"/linux-source-6.12 "$DIR/src"
fi
cd "$DIR/src"
{
	make -s defconfig kvm_guest.config
	scripts/kconfig/merge_config.sh -m .config "$FRAG" > /dev/null
	make -s olddefconfig
} > "$DIR/config.log" 2>&1 || die "configuration failed (see $DIR/config.log)"

# Every line of the fragment must have survived olddefconfig (a dependency
# that is not met silently drops an option).
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" .config || { note "option not set: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" .config || { note "option set but should not be: $opt"; bad=1; } ;;
	esac
done < "$FRAG"
[ "$bad" = 0 ] || die "the fragment does not apply to this source"

make -j"$JOBS" bzImage modules > "$DIR/build.log" 2>&1 ||
	{ tail -n 40 "$DIR/build.log" >&2; die "build failed (see $DIR/build.log)"; }
make -s INSTALL_MOD_PATH="$DIR/mods" modules_install > /dev/null 2>&1 ||
	die "modules_install failed"
make -s kernelrelease > "$DIR/kver"
cp arch/x86/boot/bzImage "$DIR/bzImage"
touch "$DIR/done"
# Builds for older fragments are not used again.
if [ -n "$base" ]; then
	note "removing $base"
	rm -rf "$base"
fi
note "built $(cat "$DIR/kver") in $(( ($(date +%s) - t0) / 60 )) min"
echo "$DIR"
