import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Lists and cleans the image cache and the guest folders left by pvbench runs that died.
package enum VMCache {
  /// The images recorded under `<cache>/images/*/image.json`.
  package static func images(cacheDirectory: String) -> [GuestImage] {
    let folder = cacheDirectory + "/images"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.sorted().compactMap { name in
      guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)/image.json")
      else { return nil }
      return try? JSONDecoder().decode(GuestImage.self, from: data)
    }
  }

  /// Guest folders (`pvbench-vm-<pid>-…`) under `temporaryRoot` whose pvbench is gone.
  package static func leftoverFolders(temporaryRoot: String = NSTemporaryDirectory()) -> [String] {
    let root = temporaryRoot.hasSuffix("/") ? String(temporaryRoot.dropLast()) : temporaryRoot
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return names.filter { name in
      guard name.hasPrefix("pvbench-vm-") else { return false }
      let pidText = name.dropFirst("pvbench-vm-".count).prefix { $0.isNumber }
      guard let owner = Int32(pidText) else { return false }
      return kill(owner, 0) != 0 && errno == ESRCH
    }.sorted().map { root + "/" + $0 }
  }

  /// QEMU processes whose command line names `folder` (a leftover guest's QEMU).
  package static func processes(using folder: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
      guard let pid = Int32(entry),
        let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
      else { return nil }
      let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      guard let first = words.first, first.contains("qemu-system") else { return nil }
      return words.contains { $0.contains(folder + "/") } ? pid : nil
    }
  }

  /// Kills the QEMU of every leftover folder (a pvbench killed before it could end its
  /// guests) and removes those folders; the guests of running pvbench processes are left
  /// alone. Runs do this before they boot guests; `vm clean` does it too.
  /// - Returns: the folders removed.
  @discardableResult
  package static func removeLeftoverFolders(temporaryRoot: String = NSTemporaryDirectory())
    -> [String]
  {
    let folders = leftoverFolders(temporaryRoot: temporaryRoot)
    for folder in folders {
      for pid in processes(using: folder) { kill(pid, SIGKILL) }
      try? FileManager.default.removeItem(atPath: folder)
    }
    return folders
  }

  /// Kills the QEMU of every leftover folder, removes those folders and all cached images.
  /// - Returns: how many images and folders were removed.
  package static func clean(cacheDirectory: String, temporaryRoot: String = NSTemporaryDirectory())
    -> (images: Int, folders: Int)
  {
    let folders = removeLeftoverFolders(temporaryRoot: temporaryRoot)
    let imageRoot = cacheDirectory + "/images"
    let images = (try? FileManager.default.contentsOfDirectory(atPath: imageRoot)) ?? []
    try? FileManager.default.removeItem(atPath: imageRoot)
    try? FileManager.default.removeItem(atPath: cacheDirectory + "/modules")
    return (images.count, folders.count)
  }
}
