//! What the sandbox's file system holds: the interpreter, its standard library and the shared
//! libraries it loads, read-only, found by asking the interpreter itself (`probe.py`) once at
//! start. Symbolic links on the way to those paths (`/lib64 -> usr/lib64`, a version manager's
//! `bin/python3 -> python3.11`) are recreated, so paths resolve inside as they do outside.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// The script that asks an interpreter what it needs.
pub(crate) const PROBE: &str = include_str!("probe.py");

/// Read-only binds and symbolic links that make up the sandbox's view of the interpreter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Directories to create (parents first) for the binds and links: bubblewrap would make
    /// them private to root, and the code runs as another user.
    pub dirs: Vec<PathBuf>,
    /// Host paths (real, without symbolic links), bound read-only at the same place.
    pub binds: Vec<PathBuf>,
    /// Symbolic links to create: (location, target as read on the host).
    pub links: Vec<(PathBuf, PathBuf)>,
}

/// Paths the probe names: single files and whole directories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// The interpreter as invoked (may be a link).
    pub executable: PathBuf,
    /// Files to expose one by one.
    pub files: Vec<PathBuf>,
    /// Directories to expose whole.
    pub directories: Vec<PathBuf>,
}

impl Needs {
    /// Reads the probe's JSON answer.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text.trim())
            .map_err(|e| format!("the interpreter's answer is not JSON: {e}"))?;
        let paths = |name: &str| -> Vec<PathBuf> {
            value[name]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let executable = value["executable"]
            .as_str()
            .filter(|p| p.starts_with('/'))
            .ok_or("the interpreter did not name its executable")?;
        Ok(Self {
            executable: PathBuf::from(executable),
            files: paths("files"),
            directories: paths("directories"),
        })
    }
}

/// Follows `path` component by component from the root, recording every symbolic link met
/// (keyed by location) and returning the real path, or `None` when it does not exist.
fn resolve(path: &Path, links: &mut BTreeMap<PathBuf, PathBuf>) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_front(&mut pending, path);
    let mut current = PathBuf::from("/");
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            current.pop();
            continue;
        }
        let next = current.join(&part);
        let meta = std::fs::symlink_metadata(&next).ok()?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = std::fs::read_link(&next).ok()?;
            links.insert(next, target.clone());
            if target.is_absolute() {
                current = PathBuf::from("/");
            }
            push_front(&mut pending, &target);
        } else {
            current = next;
        }
    }
    Some(current)
}

/// Puts the parts of `path` in front of `pending`, in order.
fn push_front(pending: &mut VecDeque<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    for part in parts.into_iter().rev() {
        pending.push_front(part);
    }
}

/// Builds the layout for `needs`. A bind that would show one of `hidden` (the data directory,
/// the working directory, `/root`, …) is refused: the interpreter must be installed elsewhere.
pub(crate) fn plan(needs: &Needs, hidden: &[PathBuf]) -> Result<Layout, String> {
    let mut links = BTreeMap::new();
    let mut binds = BTreeSet::new();
    let files = std::iter::once(&needs.executable).chain(&needs.files);
    for file in files {
        if let Some(real) = resolve(file, &mut links) {
            binds.insert(real);
        }
    }
    for dir in &needs.directories {
        if let Some(real) = resolve(dir, &mut links) {
            binds.insert(real);
        }
    }
    // A bind inside another bind is already there.
    let binds: Vec<PathBuf> = binds
        .iter()
        .filter(|b| !binds.iter().any(|o| o != *b && b.starts_with(o)))
        .cloned()
        .collect();
    for bind in &binds {
        if bind.as_os_str() == "/" {
            return Err("the Python runtime would need the whole file system visible".into());
        }
        if let Some(h) = hidden.iter().find(|h| h.starts_with(bind)) {
            return Err(format!(
                "the Python runtime needs {} visible, which would show {} to code tools; \
                 install Python elsewhere",
                bind.display(),
                h.display()
            ));
        }
    }
    let links: Vec<(PathBuf, PathBuf)> = links
        .into_iter()
        .filter(|(at, _)| !binds.iter().any(|b| at.starts_with(b)))
        .collect();
    let dirs: BTreeSet<PathBuf> = binds
        .iter()
        .chain(links.iter().map(|(at, _)| at))
        .flat_map(|p| p.ancestors().skip(1))
        .filter(|d| d.parent().is_some())
        .map(Path::to_path_buf)
        .collect();
    Ok(Layout {
        dirs: dirs.into_iter().collect(),
        binds,
        links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_on_the_way_are_recreated_and_nested_binds_merged() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(r.join("usr/lib/arch")).unwrap();
        std::fs::write(r.join("usr/lib/arch/ld.so"), "").unwrap();
        std::fs::create_dir_all(r.join("usr/lib64")).unwrap();
        symlink(r.join("lib/arch/ld.so"), r.join("usr/lib64/ld.so")).unwrap();
        symlink("usr/lib", r.join("lib")).unwrap();
        symlink("usr/lib64", r.join("lib64")).unwrap();
        std::fs::create_dir_all(r.join("py/bin")).unwrap();
        std::fs::write(r.join("py/bin/python3.11"), "").unwrap();
        symlink("python3.11", r.join("py/bin/python3")).unwrap();
        std::fs::create_dir_all(r.join("py/lib/python3.11/lib-dynload")).unwrap();
        let needs = Needs {
            executable: r.join("py/bin/python3"),
            files: vec![r.join("lib64/ld.so"), r.join("missing")],
            directories: vec![
                r.join("py/lib/python3.11"),
                r.join("py/lib/python3.11/lib-dynload"),
                r.join("lib/arch"),
            ],
        };
        let layout = plan(&needs, &[r.join("data")]).unwrap();
        for dir in ["py", "py/bin", "py/lib", "usr", "usr/lib", "usr/lib64"] {
            assert!(
                layout.dirs.contains(&r.join(dir)),
                "{dir}: {:?}",
                layout.dirs
            );
        }
        assert!(!layout.dirs.contains(&PathBuf::from("/")));
        assert!(!layout.dirs.contains(&r.join("py/lib/python3.11")));
        assert_eq!(
            layout.binds,
            vec![
                r.join("py/bin/python3.11"),
                r.join("py/lib/python3.11"),
                r.join("usr/lib/arch"),
            ]
        );
        assert_eq!(
            layout.links,
            vec![
                (r.join("lib"), PathBuf::from("usr/lib")),
                (r.join("lib64"), PathBuf::from("usr/lib64")),
                (r.join("py/bin/python3"), PathBuf::from("python3.11")),
                (r.join("usr/lib64/ld.so"), r.join("lib/arch/ld.so")),
            ]
        );
    }

    #[test]
    fn a_bind_that_would_show_a_hidden_path_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(r.join("srv/data")).unwrap();
        std::fs::write(r.join("srv/python3"), "").unwrap();
        let needs = Needs {
            executable: r.join("srv/python3"),
            files: vec![],
            directories: vec![r.join("srv")],
        };
        let err = plan(&needs, &[r.join("srv/data")]).unwrap_err();
        assert!(err.contains("srv/data"), "{err}");
        let needs = Needs {
            directories: vec![PathBuf::from("/")],
            ..needs
        };
        assert!(plan(&needs, &[]).is_err());
    }

    #[test]
    fn the_probe_answer_is_read() {
        let needs = Needs::parse(
            r#"{"executable": "/opt/py/bin/python3", "files": ["/lib64/ld.so"], "directories": ["/opt/py/lib"]}"#,
        )
        .unwrap();
        assert_eq!(needs.executable, PathBuf::from("/opt/py/bin/python3"));
        assert_eq!(needs.files, vec![PathBuf::from("/lib64/ld.so")]);
        assert!(Needs::parse(r#"{"files": []}"#).is_err());
        assert!(Needs::parse("Traceback").is_err());
    }
}
