import LinuxHost

/// Makes the writer for `paths`: the kernel's own files under `paths.root`.
///
/// A debug build (the one the tests run) emulates the kernel under a root other than
/// `/` with `FakeKernelSysfsWriter`; a release build writes the files under any root
/// as they are, so `--root` works for a chroot or a mounted image.
package func makeSysfsWriter(paths: HostPaths) -> any SysfsWriter {
  #if ENABLE_MOCKING
    if !paths.isRealHost { return FakeKernelSysfsWriter(paths: paths) }
  #endif
  return KernelSysfsWriter()
}
