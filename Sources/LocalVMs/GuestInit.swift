/// The `/init` scripts (busybox `sh`) of the guest images.
package enum GuestInit {
  /// The name QEMU gives the agent's virtio-serial port (`virtserialport,name=…`).
  package static let portName = "org.pvbench.agent"
  /// The line init prints just before it starts the agent; tests and boot errors look for it.
  package static let startMarker = "pvbench-init: starting agent on"
  /// The line the accelerator probe's init prints when the kernel reached user space.
  package static let probeMarker = "pvbench-probe: user space reached"
  /// Where the image keeps the channel's kernel modules.
  package static let moduleFolder = "lib/modules/pvbench"

  /// The init of a full guest image.
  ///
  /// The busybox applet links are made at build time (`busybox --list-full`), so no
  /// `--install` is needed here. Mounts proc, sys, devtmpfs, tmpfs on /tmp and /run, debugfs
  /// and cgroup2 on /sys/fs/cgroup — or, with `pvbench.cgroup=v1` on the kernel command line
  /// or when v2 lacks cpuset, a tmpfs there with a v1 cpuset hierarchy on
  /// /sys/fs/cgroup/cpuset, as distributions mount v1 — loads `modules` in order, finds the virtio port named `org.pvbench.agent`
  /// (falling back to /dev/ttyS1 after 5 s, or at once when the kernel command line says
  /// `pvbench.channel=serial`), runs the agent there and powers off when it exits, so QEMU
  /// (started with -no-reboot) ends too.
  /// With `pvbench.channel=hvc1` on the command line (a pseries guest, whose second
  /// `spapr-vty` console is /dev/hvc1 with the kernel's built-in hvc driver) the agent runs
  /// on /dev/hvc1 in raw mode, with no module and no search.
  /// - Parameters:
  ///   - modules: module names, loaded with insmod from `/lib/modules/pvbench/<name>.ko`.
  ///   - libraryPath: the folders of the copied shared libraries, for LD_LIBRARY_PATH.
  ///   - installApplets: make busybox's applet links at boot (`--install -s`), for an image
  ///     whose busybox cannot run on the build machine to list them.
  package static func script(modules: [String], libraryPath: [String], installApplets: Bool = false)
    -> String
  {
    let moduleList = modules.joined(separator: " ")
    let ldPath = libraryPath.joined(separator: ":")
    return """
      #!/bin/busybox sh
      /bin/busybox mkdir -p /proc /sys /dev /tmp /run /root
      \(installApplets ? "/bin/busybox --install -s /bin" : "")
      export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
      mount -t proc proc /proc
      mount -t sysfs sysfs /sys
      mount -t devtmpfs devtmpfs /dev 2>/dev/null
      mount -t tmpfs tmpfs /tmp
      mount -t tmpfs tmpfs /run
      mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
      mkdir -p /sys/fs/cgroup
      # cgroup v2 unless the command line asks for v1 (pvbench.cgroup=v1) or v2 has no
      # cpuset; v1 is laid out as distributions do: a tmpfs with one folder per controller.
      cg=v2
      grep -qw pvbench.cgroup=v1 /proc/cmdline && cg=v1
      if [ $cg = v2 ] && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; then
        if grep -qw cpuset /sys/fs/cgroup/cgroup.controllers; then
          echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
        else
          umount /sys/fs/cgroup
          cg=v1
        fi
      else
        cg=v1
      fi
      if [ $cg = v1 ]; then
        mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
        mkdir -p /sys/fs/cgroup/cpuset
        mount -t cgroup -o cpuset cpuset /sys/fs/cgroup/cpuset
      fi
      # Loopback up: Foundation's run loop (used by Process in the agent) needs a wakeup socket.
      ifconfig lo 127.0.0.1 up 2>/dev/null
      echo "pvbench-init: mounted proc, sys, dev, cgroup $cg; kernel $(uname -r), $(nproc) CPUs"
      echo "pvbench-init: uptime $(cut -d' ' -f1 /proc/uptime) s at init"
      for m in \(moduleList); do
        insmod /\(moduleFolder)/$m.ko || echo "pvbench-init: insmod $m failed"
      done
      port=""
      i=0
      grep -qw pvbench.channel=serial /proc/cmdline && i=50
      if grep -qw pvbench.channel=hvc1 /proc/cmdline; then
        port=/dev/hvc1
        stty -F $port raw -echo 2>/dev/null
      fi
      while [ -z "$port" ] && [ $i -lt 50 ]; do
        for f in /sys/class/virtio-ports/*/name; do
          if [ -r "$f" ] && [ "$(cat "$f")" = "\(portName)" ]; then
            d=${f%/name}
            [ -e "/dev/${d##*/}" ] && port="/dev/${d##*/}"
          fi
        done
        [ -z "$port" ] && usleep 100000
        i=$((i + 1))
      done
      if [ -z "$port" ]; then
        port=/dev/ttyS1
        stty -F $port raw -echo 2>/dev/null
        echo "pvbench-init: no virtio port named \(portName); falling back to $port"
      fi
      export LD_LIBRARY_PATH=\(ldPath)
      echo "\(startMarker) $port (uptime $(cut -d' ' -f1 /proc/uptime) s)"
      /bin/pvbench agent --device "$port"
      echo "pvbench-init: agent exited with status $?; powering off"
      sync
      poweroff -f

      """
  }

  /// The init of the accelerator probe image: print a marker and power off at once.
  package static let probeScript = """
    #!/bin/busybox sh
    /bin/busybox echo "\(probeMarker)"
    /bin/busybox poweroff -f

    """
}
