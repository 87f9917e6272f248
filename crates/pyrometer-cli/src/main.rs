//! The `pyrometer` command.
//!
//! - `pyrometer demo [--addr HOST:PORT] [--seconds N]` runs an instrumented example service that
//!   makes its own traffic and serves live metrics, by default on `127.0.0.1:9464/metrics`, until
//!   Ctrl-C (or for `N` seconds).
//! - `pyrometer multiprocess --dir DIR [--addr HOST:PORT] [--seconds N] [--remote-write URL
//!   [--remote-write-interval S]]` serves what the processes of a multiprocess application wrote
//!   to the store in `DIR`, and writes it to a remote-write receiver every `S` seconds (15).

mod demo;
mod multiprocess;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serve::ServeOptions;

const USAGE: &str = "usage: pyrometer demo [--addr HOST:PORT] [--seconds N] [LIMITS]
       pyrometer multiprocess --dir DIR [--addr HOST:PORT] [--seconds N] [LIMITS]
                              [--remote-write URL [--remote-write-interval S]]
LIMITS: [--max-connections N (64)] [--idle-timeout S (2)]";

/// A command and its options.
#[derive(Debug, PartialEq)]
enum Command {
    Demo(ServeOptions),
    Multiprocess { dir: PathBuf, serve: ServeOptions, remote_write: Option<RemoteWrite> },
}

/// Where the sidecar also writes what it serves, and how often.
#[derive(Debug, PartialEq)]
struct RemoteWrite {
    url: String,
    interval: Duration,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ran = match parse(&args) {
        Ok(Command::Demo(options)) => demo::run(&options),
        Ok(Command::Multiprocess { dir, serve, remote_write }) => multiprocess::run(dir, &serve, remote_write),
        Err(message) => {
            eprintln!("pyrometer: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pyrometer: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A positive number of seconds, fractions allowed.
fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse()
        .ok()
        .and_then(|s: f64| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("bad number of seconds {value:?}"))
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut serve = ServeOptions::new(SocketAddr::from(([127, 0, 0, 1], 9464)));
    let mut dir = None;
    let mut remote_write = None;
    let mut remote_write_interval = Duration::from_secs(15);
    let mut rest = args.iter();
    let command = rest.next().map(String::as_str).ok_or("no command given")?;
    if !matches!(command, "demo" | "multiprocess") {
        return Err(format!("unknown command {command:?}"));
    }
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => serve.addr = value.parse().map_err(|_| format!("bad address {value:?}"))?,
            "--seconds" => {
                let secs: u64 = value.parse().map_err(|_| format!("bad number of seconds {value:?}"))?;
                serve.run_for = Some(Duration::from_secs(secs));
            }
            "--max-connections" => {
                serve.max_connections = value
                    .parse()
                    .ok()
                    .filter(|n: &usize| *n >= 1)
                    .ok_or_else(|| format!("bad number of connections {value:?}"))?;
            }
            "--idle-timeout" => serve.idle_timeout = seconds(value)?,
            "--dir" if command == "multiprocess" => dir = Some(PathBuf::from(value)),
            "--remote-write" if command == "multiprocess" => remote_write = Some(value.clone()),
            "--remote-write-interval" if command == "multiprocess" => remote_write_interval = seconds(value)?,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    match command {
        "multiprocess" => Ok(Command::Multiprocess {
            dir: dir.ok_or("multiprocess needs --dir DIR")?,
            serve,
            remote_write: remote_write.map(|url| RemoteWrite { url, interval: remote_write_interval }),
        }),
        _ => Ok(Command::Demo(serve)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn demo_defaults_to_the_loopback_port_9464() {
        let Command::Demo(options) = parse(&args("demo")).unwrap() else { panic!("not the demo") };
        assert_eq!(options.addr.to_string(), "127.0.0.1:9464");
        assert_eq!(options.run_for, None);
    }

    #[test]
    fn flags_are_read_and_bad_ones_refused() {
        let Command::Demo(options) = parse(&args("demo --addr 127.0.0.1:0 --seconds 3")).unwrap() else {
            panic!("not the demo")
        };
        assert_eq!(options.run_for, Some(Duration::from_secs(3)));
        assert!(parse(&args("demo --seconds x")).is_err());
        assert!(parse(&args("demo --port 1")).is_err());
        let Command::Demo(limited) = parse(&args("demo --max-connections 8 --idle-timeout 0.5")).unwrap() else {
            panic!("not the demo")
        };
        assert_eq!((limited.max_connections, limited.idle_timeout), (8, Duration::from_millis(500)));
        assert!(parse(&args("demo --max-connections 0")).is_err());
        assert!(parse(&args("serve")).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn multiprocess_needs_a_directory() {
        let parsed = parse(&args("multiprocess --dir /tmp/x --addr 127.0.0.1:0")).unwrap();
        assert!(matches!(parsed, Command::Multiprocess { ref dir, .. } if dir == &PathBuf::from("/tmp/x")));
        assert!(parse(&args("multiprocess")).is_err());
        let Command::Multiprocess { remote_write, .. } =
            parse(&args("multiprocess --dir d --remote-write http://vm:8428/api/v1/write --remote-write-interval 2.5"))
                .unwrap()
        else {
            panic!("not multiprocess")
        };
        let expected = RemoteWrite { url: "http://vm:8428/api/v1/write".into(), interval: Duration::from_millis(2500) };
        assert_eq!(remote_write, Some(expected));
        assert!(parse(&args("multiprocess --dir d --remote-write-interval 0")).is_err());
        assert!(parse(&args("demo --remote-write http://x")).is_err());
        assert!(parse(&args("demo --dir /tmp/x")).is_err());
    }
}
