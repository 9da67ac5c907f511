//! Scheduled backups of a data service: when they run, how long they are
//! kept, the object store they go to ([`Backup`], [`BackupTarget`]), and
//! how the service's blueprint takes one ([`BackupMethod`]).

use serde_json::Value;

use super::ServiceId;

/// The bucket backups go to in a `minio` service named without one.
pub const DEFAULT_BUCKET: &str = "backups";

/// The Secret an `s3://` target's keys are read from unless `secret:` names
/// another.
pub const DEFAULT_S3_SECRET: &str = "backup-credentials";

/// The S3 endpoint of an `s3://` target unless `endpoint:` names another.
pub const DEFAULT_S3_ENDPOINT: &str = "https://s3.amazonaws.com";

/// Retention unless `keep:` says otherwise, in days.
pub const DEFAULT_KEEP_DAYS: u32 = 30;

/// Schedule unless `schedule:` says otherwise: 03:00 every day.
pub const DEFAULT_SCHEDULE: &str = "0 3 * * *";

/// A service's scheduled backups, `backup:` over `defaults.backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The CronJob's schedule: five cron fields or a macro.
    pub schedule: String,
    /// Days each backup is kept before the job deletes it.
    pub keep_days: u32,
    /// Where backups go.
    pub target: BackupTarget,
}

/// The object store backups go to, and the login that writes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupTarget {
    /// The store's S3 endpoint (`http://objects.data.svc.cluster.local:9000`).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The path within the bucket, without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// The Secret holding the access key and secret key.
    pub secret: String,
    /// Its key holding the access key.
    pub access_key: String,
    /// Its key holding the secret key.
    pub secret_key: String,
    /// The platform's `minio` service, when the store is one.
    pub store: Option<ServiceId>,
}

impl BackupTarget {
    /// Where the backups of `service` go within the bucket: `PREFIX/SERVICE`.
    pub fn path(&self, service: &str) -> String {
        if self.prefix.is_empty() {
            service.to_string()
        } else {
            format!("{}/{service}", self.prefix)
        }
    }

    /// The bucket and the path of `service`'s backups: `BUCKET/PREFIX/SERVICE`.
    pub fn location(&self, service: &str) -> String {
        format!("{}/{}", self.bucket, self.path(service))
    }

    /// The same as an S3 URL: `s3://BUCKET/PREFIX/SERVICE`.
    pub fn url(&self, service: &str) -> String {
        format!("s3://{}", self.location(service))
    }
}

/// How a blueprint takes a backup of a service.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupMethod {
    /// A script that writes the backup's files into `$BACKUP_DIR`; the
    /// CronJob then uploads them and deletes the expired ones.
    Dump(Dump),
    /// The blueprint's operator takes and expires backups itself from the
    /// resources the blueprint renders (CloudNativePG's `ScheduledBackup`).
    Operator,
}

/// A backup taken by a script, and the script that restores one.
#[derive(Debug, Clone, PartialEq)]
pub struct Dump {
    /// The image the script runs in: the server's own, for its client tools.
    pub image: String,
    /// The user it runs as.
    pub user: u32,
    /// Its command: reads the server over the network and writes files
    /// into `$BACKUP_DIR`; the server is at `$BACKUP_HOST`, on
    /// `$BACKUP_PORT` (the first of `ports`).
    /// Mostly a script ([`Dump::shell`]).
    pub command: Vec<String>,
    /// Its environment besides `BACKUP_DIR` and `BACKUP_HOST` (credentials
    /// from Secrets).
    pub env: Vec<Value>,
    /// The ports of the service it reaches, the one it dumps from first.
    pub ports: Vec<u16>,
    /// What one backup holds, for people: `docs/backup.md` and `--help`.
    pub contains: &'static str,
    /// The script restoring the files of `$BACKUP_DIR`: into the server at
    /// `$BACKUP_HOST` and `$BACKUP_PORT`, with the same environment, or, when `offline`, into
    /// the stopped server's data directory `$DATA_DIR`.
    pub restore: String,
    /// Whether a restore writes the data directory of a stopped server
    /// rather than talking to a running one.
    pub offline: bool,
}

impl Dump {
    /// The command running `script` in the image's POSIX shell.
    pub fn shell(script: String) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script]
    }
}

/// Whether `name` is a bucket name S3 accepts: 3 to 63 lowercase letters,
/// digits, `-` and `.`, starting and ending with a letter or digit.
pub fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && edge(name.chars().next())
        && edge(name.chars().last())
}
