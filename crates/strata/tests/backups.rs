//! The commands backup CronJobs run, for real: PostgreSQL, MariaDB and
//! Redis servers (Debian's packages, which `.ci/run` installs) started on
//! loopback in temporary directories, a directory standing in for the
//! object store. Each test writes data, runs the dump script taken from
//! the CronJob `strata render` prints (what ships), destroys the data,
//! restores with the blueprint's documented restore script, and reads the
//! data back equal. Without the servers' binaries a test says why and
//! passes, except in CI, where it fails.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strata_core::model::{BackupMethod, Dump};
use support::{strata, workspace};

const SPEC: &str = "crates/strata/tests/fixtures/backups/platform.yaml";
/// The password every test server takes, standing in for the Secrets'.
const PASSWORD: &str = "s3cret-Pw";

/// The dump container of the CronJob of `service`'s backups, as rendered.
fn dump_container(service: &str) -> Value {
    let output = strata()
        .args(["render", SPEC, "-o", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    let name = format!("{service}-backup");
    let cronjob = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "CronJob" && o["metadata"]["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no CronJob {name}"))
        .clone();
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"][0].clone()
}

/// The blueprint's restore script for `service`, as docs/backup.md shows it.
fn restore_script(service: &str) -> String {
    let text = std::fs::read_to_string(workspace().join(SPEC)).unwrap();
    let file = strata_core::source::SourceFile::new(SPEC, text);
    let doc = strata_core::spec::parse(&file).unwrap();
    let platform = strata_core::resolve(&doc, None).unwrap();
    let service = platform.service(service).unwrap();
    let tuning = service.tuning.as_ref().unwrap();
    match tuning.blueprint.backup(tuning) {
        Some(BackupMethod::Dump(Dump { restore, .. })) => restore,
        other => panic!("{other:?}"),
    }
}

/// The environment a script of `container` runs with here: its literal
/// values, the server on loopback at `port`, `dir` for the backup, and the
/// test's password for every value read from a Secret.
fn environment(container: &Value, port: u16, dir: &Path) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|var| {
            let name = var["name"].as_str().unwrap().to_string();
            let value = match name.as_str() {
                "BACKUP_HOST" => "127.0.0.1".to_string(),
                "BACKUP_PORT" => port.to_string(),
                "BACKUP_DIR" => dir.display().to_string(),
                "HOME" => dir.parent().unwrap().display().to_string(),
                _ if var.get("valueFrom").is_some() => PASSWORD.to_string(),
                _ => var["value"].as_str().unwrap().to_string(),
            };
            (name, value)
        })
        .collect()
}

/// Runs `script` with `sh -c` and `env`, asserting it succeeds.
fn run_script(what: &str, script: &str, env: &[(String, String)], extra: &[(&str, &Path)]) {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    for (name, value) in env {
        command.env(name, value);
    }
    for (name, value) in extra {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed:\n{script}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first of `names` found on `PATH` or in `dirs`, or `None` after
/// saying why the test is skipped (a failure in CI, which installs them).
fn binary(names: &[&str], dirs: &[PathBuf], package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut search: Vec<PathBuf> = dirs.to_vec();
    search.extend(std::env::split_paths(&path));
    let found = names
        .iter()
        .find_map(|name| search.iter().map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install {package} (apt-get install {package})"
        );
        eprintln!(
            "skipped: {} not found (apt-get install {package})",
            names[0]
        );
    }
    found
}

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether the tests run as root, where servers refuse to run as they are.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Retries `check` for up to a minute.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "{what} never became ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Output of `command`, asserting success.
fn stdout(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------- PostgreSQL

/// A PostgreSQL server of its own data directory, stopped when dropped.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Postgres {
    /// `initdb` and `pg_ctl start` in `dir`, with a password for `postgres`.
    fn start(bin: &Path, dir: &Path) -> Postgres {
        let data = dir.join("data");
        std::fs::write(dir.join("pw"), format!("{PASSWORD}\n")).unwrap();
        let postgres = Postgres {
            bin: bin.to_path_buf(),
            data,
            port: free_port(),
        };
        postgres.as_owner(&[
            "initdb",
            "-D",
            &postgres.data.display().to_string(),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            &format!("--pwfile={}", dir.join("pw").display()),
        ]);
        postgres.as_owner(&[
            "pg_ctl",
            "-D",
            &postgres.data.display().to_string(),
            "-o",
            &format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                postgres.port,
                dir.display()
            ),
            "-l",
            &dir.join("log").display().to_string(),
            "-w",
            "start",
        ]);
        postgres
    }

    /// Runs a server program, as the `postgres` user when the tests run
    /// as root (initdb refuses root).
    fn as_owner(&self, args: &[&str]) {
        let program = self.bin.join(args[0]);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.args(&args[1..]).stdout(Stdio::null());
        stdout(&mut command);
    }

    fn psql(&self, database: &str, sql: &str) -> String {
        stdout(
            Command::new(self.bin.join("psql"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                ])
                .args(["-d", database, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql])
                .env("PGPASSWORD", PASSWORD),
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = std::panic::catch_unwind(|| {
            self.as_owner(&["pg_ctl", "-D", &data, "-m", "immediate", "stop"]);
        });
    }
}

/// A directory the server's own user may write in, when that is not us.
fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        stdout(Command::new("chown").arg("postgres").arg(dir.path()));
    }
    dir
}

#[test]
fn postgresql_backs_up_and_restores_every_database_for_real() {
    let dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    let Some(initdb) = binary(&["initdb"], &dirs, "postgresql") else {
        return;
    };
    let bin = initdb.parent().unwrap().to_path_buf();
    let backup = tempfile::tempdir().unwrap();
    let container = dump_container("db");
    let script = container["command"][2].as_str().unwrap().to_string();

    let first = shared_tempdir();
    let server = Postgres::start(&bin, first.path());
    server.psql("postgres", "CREATE DATABASE shop");
    server.psql(
        "shop",
        "CREATE TABLE items (id int PRIMARY KEY, name text); \
         INSERT INTO items VALUES (1, 'tea'), (2, 'café'), (3, 'it''s');",
    );
    server.psql("postgres", "CREATE ROLE auditor LOGIN PASSWORD 'x'");
    let before = server.psql("shop", "SELECT id, name FROM items ORDER BY id");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = environment(&container, server.port, backup.path());
    run_script("the dump", &script, &env, &[("PATH", Path::new(&path))]);
    assert!(backup.path().join("all.sql.gz").is_file());

    // The data is gone: a new, empty server.
    drop(server);
    drop(first);
    let second = shared_tempdir();
    let server = Postgres::start(&bin, second.path());
    assert_eq!(
        server.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'shop'"
        ),
        "0\n"
    );

    let env = environment(&container, server.port, backup.path());
    run_script(
        "the restore",
        &restore_script("db"),
        &env,
        &[("PATH", Path::new(&path))],
    );
    assert_eq!(
        server.psql("shop", "SELECT id, name FROM items ORDER BY id"),
        before
    );
    assert_eq!(
        server.psql(
            "postgres",
            "SELECT rolname FROM pg_roles WHERE rolname = 'auditor'"
        ),
        "auditor\n"
    );
}

// ------------------------------------------------------------------- MariaDB

/// A MariaDB server of its own data directory, with `root` at 127.0.0.1
/// logging in with the test's password.
struct MariaDb {
    port: u16,
    _process: Server,
}

impl MariaDb {
    fn start(dir: &Path) -> MariaDb {
        let data = dir.join("data");
        let socket = dir.join("sock");
        let root = is_root().then_some("--user=root");
        stdout(
            Command::new("mariadb-install-db")
                .args([
                    "--no-defaults",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ])
                .arg(format!("--datadir={}", data.display()))
                .args(root),
        );
        let port = free_port();
        let process = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            // Loopback clients are `root@127.0.0.1`, not `root@localhost`.
            .arg("--skip-name-resolve")
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", dir.join("log").display()))
            .args(root)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let process = Server(process);
        let local = |sql: &str| {
            Command::new("mariadb")
                .args(["--no-defaults", "-uroot"])
                .arg(format!("--socket={}", socket.display()))
                .args(["-e", sql])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        wait_until("mariadbd", || local("SELECT 1"));
        assert!(local(&format!(
            "CREATE OR REPLACE USER root@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;"
        )));
        MariaDb {
            port,
            _process: process,
        }
    }

    fn sql(&self, sql: &str) -> String {
        stdout(
            Command::new("mariadb")
                .args(["--no-defaults", "-h", "127.0.0.1", "-uroot", "-N", "-B"])
                .arg(format!("--port={}", self.port))
                .args(["-e", sql])
                .env("MYSQL_PWD", PASSWORD),
        )
    }
}

#[test]
fn mariadb_backs_up_and_restores_every_database_for_real() {
    if binary(
        &["mariadbd"],
        &[PathBuf::from("/usr/sbin")],
        "mariadb-server",
    )
    .is_none()
        || binary(&["mysqldump"], &[], "mariadb-client").is_none()
    {
        return;
    }
    let backup = tempfile::tempdir().unwrap();
    let container = dump_container("sql");
    let script = container["command"][2].as_str().unwrap().to_string();

    let first = tempfile::tempdir().unwrap();
    let server = MariaDb::start(first.path());
    server.sql(
        "CREATE DATABASE studio; \
         CREATE TABLE studio.notes (id int PRIMARY KEY, body text); \
         INSERT INTO studio.notes VALUES (1, 'draft'), (2, 'naïve'), (3, 'it''s');",
    );
    let before = server.sql("SELECT id, body FROM studio.notes ORDER BY id");
    run_script(
        "the dump",
        &script,
        &environment(&container, server.port, backup.path()),
        &[],
    );
    assert!(backup.path().join("all.sql.gz").is_file());

    drop(server);
    drop(first);
    let second = tempfile::tempdir().unwrap();
    let server = MariaDb::start(second.path());
    assert_eq!(server.sql("SHOW DATABASES LIKE 'studio'"), "");

    let env = environment(&container, server.port, backup.path());
    run_script("the restore", &restore_script("sql"), &env, &[]);
    assert_eq!(
        server.sql("SELECT id, body FROM studio.notes ORDER BY id"),
        before
    );
}

// --------------------------------------------------------------------- Redis

/// A Redis server persisting as the blueprint's does (AOF and RDB), with
/// the test's password.
fn redis(dir: &Path, port: u16) -> Server {
    let process = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args([
            "--appendonly",
            "yes",
            "--requirepass",
            PASSWORD,
            "--save",
            "",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(process);
    wait_until("redis-server", || {
        redis_cli(port, &["PING"]).is_some_and(|out| out.trim() == "PONG")
    });
    server
}

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .env("REDISCLI_AUTH", PASSWORD)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn redis_backs_up_and_restores_every_key_for_real() {
    if binary(&["redis-server"], &[], "redis-server").is_none()
        || binary(&["redis-cli"], &[], "redis-tools").is_none()
    {
        return;
    }
    let backup = tempfile::tempdir().unwrap();
    let container = dump_container("cache");
    let script = container["command"][2].as_str().unwrap().to_string();

    let first = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = redis(first.path(), port);
    for (key, value) in [("cart:1", "tea"), ("cart:2", "café"), ("session", "it's")] {
        redis_cli(port, &["SET", key, value]).unwrap();
    }
    redis_cli(port, &["RPUSH", "queue", "a", "b", "c"]).unwrap();
    let read = || {
        let values = redis_cli(port, &["MGET", "cart:1", "cart:2", "session"]).unwrap();
        let queue = redis_cli(port, &["LRANGE", "queue", "0", "-1"]).unwrap();
        values + &queue
    };
    let before = read();
    run_script(
        "the dump",
        &script,
        &environment(&container, port, backup.path()),
        &[],
    );
    assert!(backup.path().join("dump.rdb").is_file());
    // Written after the backup: gone once it is restored, kept aside.
    redis_cli(port, &["SET", "late", "after the backup"]).unwrap();
    redis_cli(port, &["SET", "cart:1", "coffee"]).unwrap();
    drop(server);

    // Into the stopped server's own data directory, as `strata restore`
    // does on each member's volume; then in an empty one.
    let env = environment(&container, port, backup.path());
    let second = tempfile::tempdir().unwrap();
    for dir in [first.path(), second.path()] {
        run_script(
            "the restore",
            &restore_script("cache"),
            &env,
            &[("DATA_DIR", dir)],
        );
        let server = redis(dir, port);
        assert_eq!(read(), before);
        assert_eq!(redis_cli(port, &["DBSIZE"]).unwrap().trim(), "4");
        drop(server);
    }
    // Nothing deleted: the data from before the restore is beside it.
    let aside: Vec<PathBuf> = std::fs::read_dir(first.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("before-restore-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(aside[0].join("appendonlydir").is_dir());
    let kept = redis(&aside[0], port);
    assert_eq!(
        redis_cli(port, &["GET", "late"]).unwrap().trim(),
        "after the backup"
    );
    drop(kept);
}
