# Shared by the VM runners (sourced): Debian 12's stock kernel, which
# scripts/install-deps unpacks (not installs) into /var/cache/xconnect, and a
# busybox initramfs that loads the modules a guest needs before its /init.

# The unpacked kernel: sets vm_kernel_dir, vm_vmlinuz and vm_kernel_version,
# or calls `unavailable MESSAGE` (the runner's own) when there is none.
vm_find_kernel() {
  vm_kernel_dir=${XCONNECT_STOCK_KERNEL_DIR:-/var/cache/xconnect/stock-kernel/current}
  vm_vmlinuz=$(compgen -G "$vm_kernel_dir/boot/vmlinuz-*" | head -n1) ||
    unavailable "no kernel in $vm_kernel_dir (scripts/install-deps unpacks it)"
  vm_kernel_version=${vm_vmlinuz##*/vmlinuz-}
}

# vm_initramfs DIR INIT MODULE...: DIR/initramfs.cpio, with a static busybox,
# the MODULEs of the stock kernel and what they depend on (in dependency
# order, each once, listed in /modules/order for INIT to insmod) and INIT
# (a file) as /init.
vm_initramfs() {
  local dir=$1 init=$2 verb path module
  shift 2
  mkdir -p "$dir"/initramfs/{bin,modules}
  cp "$(command -v busybox)" "$dir/initramfs/bin/busybox"
  local -A loaded=()
  for module in "$@"; do
    while read -r verb path _; do
      [[ $verb == insmod && -z ${loaded[$path]:-} ]] || continue
      loaded[$path]=1
      cp "$path" "$dir/initramfs/modules/"
      echo "${path##*/}" >>"$dir/initramfs/modules/order"
    done < <(modprobe -d "$vm_kernel_dir" -S "$vm_kernel_version" --show-depends "$module")
  done
  install -m 0755 "$init" "$dir/initramfs/init"
  (cd "$dir/initramfs" && find . | busybox cpio -o -H newc >"$dir/initramfs.cpio" 2>/dev/null)
}
