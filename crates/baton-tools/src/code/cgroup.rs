//! A control group per code tool call, so memory and process limits hold for the whole sandbox
//! (every process the code starts), not per process. cgroup v2 where it is the main hierarchy
//! with the `memory` and `pids` controllers, else the v1 `memory` and `pids` hierarchies; the
//! call's groups are children of the server's own and are removed when the call ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const PREFIX: &str = "baton-code-";

/// Where this process may create control groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cgroups {
    /// Unified hierarchy: one group holds both limits.
    V2 {
        /// The server's group (its children get `memory` and `pids`).
        base: PathBuf,
    },
    /// Legacy hierarchies: one group in each.
    V1 {
        /// The server's group in the `memory` hierarchy.
        memory: PathBuf,
        /// The server's group in the `pids` hierarchy.
        pids: PathBuf,
    },
}

#[derive(Debug)]
struct Mount {
    root: String,
    point: String,
    fstype: String,
    options: Vec<String>,
}

fn mounts(mountinfo: &str) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                root: (*left.get(3)?).to_owned(),
                point: (*left.get(4)?).to_owned(),
                fstype: (*right.first()?).to_owned(),
                options: right.get(2)?.split(',').map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// The directory of this process's group in a mounted hierarchy.
fn group_dir(mount: &Mount, path: &str) -> Option<PathBuf> {
    let relative = if mount.root == "/" {
        path
    } else {
        path.strip_prefix(mount.root.as_str())?
    };
    Some(Path::new(&mount.point).join(relative.trim_start_matches('/')))
}

/// Finds the candidate hierarchies from `/proc/self/mountinfo` and `/proc/self/cgroup`: the v2
/// group (when a cgroup2 file system is mounted) and the v1 `memory` and `pids` groups.
fn locate(mountinfo: &str, own: &str) -> (Option<PathBuf>, Option<(PathBuf, PathBuf)>) {
    let mounts = mounts(mountinfo);
    let mut v2 = None;
    let (mut memory, mut pids) = (None, None);
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            v2 = mounts
                .iter()
                .find(|m| m.fstype == "cgroup2")
                .and_then(|m| group_dir(m, path));
            continue;
        }
        for controller in controllers.split(',') {
            let dir = mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && m.options.iter().any(|o| o == controller))
                .and_then(|m| group_dir(m, path));
            match controller {
                "memory" => memory = dir,
                "pids" => pids = dir,
                _ => {}
            }
        }
    }
    (v2, memory.zip(pids))
}

fn has_controllers(list: &str) -> bool {
    let names: Vec<&str> = list.split_whitespace().collect();
    names.contains(&"memory") && names.contains(&"pids")
}

/// Lets the children of the v2 group `base` use `memory` and `pids`. A group holding processes
/// cannot pass controllers down, so the server first moves into a leaf of its own.
async fn enable_v2(base: &Path) -> Result<(), String> {
    let control = base.join("cgroup.subtree_control");
    let enabled = tokio::fs::read_to_string(&control)
        .await
        .unwrap_or_default();
    if has_controllers(&enabled) {
        return Ok(());
    }
    if tokio::fs::write(&control, "+memory +pids").await.is_ok() {
        return Ok(());
    }
    let leaf = base.join("baton-server");
    let _ = tokio::fs::create_dir(&leaf).await;
    tokio::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string())
        .await
        .map_err(|e| format!("cannot move the server into {}: {e}", leaf.display()))?;
    tokio::fs::write(&control, "+memory +pids")
        .await
        .map_err(|e| format!("cannot enable memory and pids in {}: {e}", base.display()))
}

/// Removes groups left by servers that are no longer running (a crash mid-call).
async fn sweep(parent: &Path) {
    let Ok(mut entries) = tokio::fs::read_dir(parent).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if tokio::fs::metadata(format!("/proc/{pid}")).await.is_err() {
            let _ = tokio::fs::remove_dir(entry.path()).await;
        }
    }
}

impl Cgroups {
    /// Finds a hierarchy where this process can create groups with memory and process limits.
    pub(crate) async fn detect() -> Result<Self, String> {
        let mountinfo = tokio::fs::read_to_string("/proc/self/mountinfo")
            .await
            .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
        let own = tokio::fs::read_to_string("/proc/self/cgroup")
            .await
            .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let (v2, v1) = locate(&mountinfo, &own);
        let mut found = None;
        if let Some(base) = v2 {
            let controllers = tokio::fs::read_to_string(base.join("cgroup.controllers"))
                .await
                .unwrap_or_default();
            if has_controllers(&controllers) {
                enable_v2(&base).await?;
                found = Some(Self::V2 { base });
            }
        }
        let found = match (found, v1) {
            (Some(found), _) => found,
            (None, Some((memory, pids))) => Self::V1 { memory, pids },
            (None, None) => return Err("no cgroup hierarchy with memory and pids".into()),
        };
        for parent in found.parents() {
            sweep(parent).await;
        }
        // Proves the groups can be made and limited here.
        let probe = found.create(64 * 1024 * 1024, 8).await?;
        probe.remove().await;
        Ok(found)
    }

    fn parents(&self) -> Vec<&Path> {
        match self {
            Self::V2 { base } => vec![base],
            Self::V1 { memory, pids } => vec![memory, pids],
        }
    }

    /// Creates a fresh group (one per hierarchy) limited to `memory` bytes and `processes`
    /// tasks.
    pub(crate) async fn create(&self, memory: u64, processes: u32) -> Result<CallGroup, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut group = CallGroup {
            dirs: Vec::new(),
            oom_events: PathBuf::new(),
            removed: false,
        };
        let write = |dir: &Path, file: &str, value: String| {
            let path = dir.join(file);
            async move {
                tokio::fs::write(&path, value)
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        };
        let make = |dir: PathBuf| async move {
            tokio::fs::create_dir(&dir)
                .await
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))
                .map(|_| dir)
        };
        match self {
            Self::V2 { base } => {
                let dir = make(base.join(&name)).await?;
                group.dirs.push(dir.clone());
                group.oom_events = dir.join("memory.events");
                write(&dir, "memory.max", memory.to_string()).await?;
                // Swap would let the code hold more than its memory limit.
                let _ = write(&dir, "memory.swap.max", "0".into()).await;
                write(&dir, "pids.max", processes.to_string()).await?;
            }
            Self::V1 { memory: mem, pids } => {
                let dir = make(mem.join(&name)).await?;
                group.dirs.push(dir.clone());
                group.oom_events = dir.join("memory.oom_control");
                write(&dir, "memory.limit_in_bytes", memory.to_string()).await?;
                let _ = write(&dir, "memory.memsw.limit_in_bytes", memory.to_string()).await;
                let dir = make(pids.join(&name)).await?;
                group.dirs.push(dir.clone());
                write(&dir, "pids.max", processes.to_string()).await?;
            }
        }
        Ok(group)
    }
}

/// The groups of one call. Removed by [`CallGroup::remove`], or in the background when dropped
/// (a call abandoned half-way).
#[derive(Debug)]
pub(crate) struct CallGroup {
    dirs: Vec<PathBuf>,
    oom_events: PathBuf,
    removed: bool,
}

impl CallGroup {
    /// The `cgroup.procs` files a process writes its id to, to join the call's groups.
    pub(crate) fn procs_files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.dirs.iter().map(|d| d.join("cgroup.procs"))
    }

    /// How many processes the kernel killed for exceeding the memory limit.
    pub(crate) async fn oom_kills(&self) -> u64 {
        let text = tokio::fs::read_to_string(&self.oom_events)
            .await
            .unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Stops whatever is still running in the groups and removes them.
    pub(crate) async fn remove(mut self) {
        self.removed = true;
        remove_dirs(std::mem::take(&mut self.dirs)).await;
    }
}

impl Drop for CallGroup {
    fn drop(&mut self) {
        if self.removed || self.dirs.is_empty() {
            return;
        }
        let dirs = std::mem::take(&mut self.dirs);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(remove_dirs(dirs));
        }
    }
}

async fn remove_dirs(mut dirs: Vec<PathBuf>) {
    for attempt in 0..50 {
        let mut left = Vec::new();
        for dir in dirs {
            if tokio::fs::remove_dir(&dir).await.is_err() {
                left.push(dir);
            }
        }
        dirs = left;
        if dirs.is_empty() {
            return;
        }
        // The sandbox's processes normally end with it; what is still there is stopped.
        if attempt % 10 == 2 {
            for dir in &dirs {
                if tokio::fs::write(dir.join("cgroup.kill"), "1")
                    .await
                    .is_err()
                {
                    let procs = tokio::fs::read_to_string(dir.join("cgroup.procs"))
                        .await
                        .unwrap_or_default();
                    let pids: Vec<&str> = procs.split_whitespace().collect();
                    super::run::kill(&pids).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for dir in dirs {
        tracing::warn!(group = %dir.display(), "could not remove a code tool's cgroup");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 /outer /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn v1_and_v2_groups_are_found_from_proc() {
        let own = "9:name=systemd:/\n8:pids:/outer/inner\n4:memory:/api/abc\n1:cpu:/\n0::/svc\n";
        let (v2, v1) = locate(MOUNTINFO, own);
        assert_eq!(v2, Some(PathBuf::from("/sys/fs/cgroup/unified/svc")));
        assert_eq!(
            v1,
            Some((
                PathBuf::from("/sys/fs/cgroup/memory/api/abc"),
                PathBuf::from("/sys/fs/cgroup/pids/inner")
            ))
        );
        let (v2, v1) = locate(MOUNTINFO, "4:memory:/\n");
        assert_eq!((v2, v1), (None, None));
    }

    /// As root (as CI runs), this machine's cgroups take per-call groups with limits, and
    /// removing one leaves nothing behind.
    #[tokio::test]
    async fn a_call_group_is_limited_and_removed() {
        use std::os::unix::fs::MetadataExt;
        if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
            return;
        }
        let cgroups = Cgroups::detect().await.unwrap();
        let group = cgroups.create(100 * 1024 * 1024, 12).await.unwrap();
        let dirs = group.dirs.clone();
        assert!(!dirs.is_empty());
        let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).ok();
        let memory = dirs
            .iter()
            .find_map(|d| read(d, "memory.max").or_else(|| read(d, "memory.limit_in_bytes")));
        assert_eq!(memory.unwrap().trim(), "104857600");
        let pids = dirs.iter().find_map(|d| read(d, "pids.max"));
        assert_eq!(pids.unwrap().trim(), "12");
        assert_eq!(group.oom_kills().await, 0);
        group.remove().await;
        for dir in dirs {
            assert!(!dir.exists(), "{} left behind", dir.display());
        }
    }

    #[test]
    fn controllers_are_read_from_their_list() {
        assert!(has_controllers("cpuset cpu io memory hugetlb pids rdma"));
        assert!(!has_controllers("hugetlb"));
    }
}
