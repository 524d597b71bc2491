//! The data directory is private: it holds password hashes, live invitation links (in queued
//! mail), the master key and TLS keys. At start it is created 0700, and the files Atrium keeps
//! there that must stay secret are tightened to 0600 (0700 for directories) if anyone else
//! could read them, with a warning naming each path. The `atrium` binary also sets the umask to
//! 0o077, so every file it writes afterwards is private from the start. (A key given with
//! `tls_key` lives where its owner put it and is left alone.)

use crate::config::Config;
use anyhow::Context;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Group and world bits.
const OTHERS: u32 = 0o077;

/// Creates the data dir (0700) if it is missing, then tightens it and its secret files.
/// Returns the paths that had to be tightened (each was also logged as a warning).
pub fn secure_data_dir(config: &Config) -> anyhow::Result<Vec<PathBuf>> {
    let dir = &config.data_dir;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    let mut candidates = vec![(dir.clone(), 0o700), (dir.join("tls"), 0o700), (dir.join("master.key"), 0o600)];
    if let Ok(entries) = std::fs::read_dir(dir.join("tls")) {
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // The generated CA's and server's keys (`ca-key.pem`, `server-key.pem`).
            if name.ends_with("-key.pem") || name.ends_with(".key") {
                candidates.push((p, 0o600));
            }
        }
    }
    // The SQLite database and its WAL and shared-memory files, wherever the URL puts them.
    let url = config.database_url();
    if url.starts_with("sqlite:")
        && let Ok(db) = atrium_store::backup::sqlite_path(&url)
    {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            candidates.push((PathBuf::from(p), 0o600));
        }
    }
    let mut tightened = Vec::new();
    for (path, mode) in candidates {
        if tighten(&path, mode)? {
            tracing::warn!(path = %path.display(), "was readable by other users; its permissions are now {mode:o} (owner only)");
            tightened.push(path);
        }
    }
    Ok(tightened)
}

/// Clears the group and world bits of `path` (to `mode`) if any is set; `false` if the path
/// does not exist or was private already.
fn tighten(path: &Path, mode: u32) -> anyhow::Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("checking {}", path.display())),
    };
    // A symlink's own mode means nothing; its target is checked where it lives.
    if meta.file_type().is_symlink() || meta.permissions().mode() & OTHERS == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} private (chmod {mode:o})", path.display()))?;
    Ok(true)
}
