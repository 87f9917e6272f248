//! The `pyrometer` command.
//!
//! `pyrometer demo [--addr HOST:PORT] [--seconds N]` runs an instrumented example service that
//! makes its own traffic and serves live metrics, by default on `127.0.0.1:9464/metrics`, until
//! Ctrl-C (or for `N` seconds).

mod demo;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: pyrometer demo [--addr HOST:PORT] [--seconds N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(options) => match demo::run(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("pyrometer: {err}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("pyrometer: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// What the demo is asked to do.
#[derive(Debug, PartialEq)]
pub(crate) struct DemoOptions {
    pub(crate) addr: SocketAddr,
    pub(crate) run_for: Option<Duration>,
}

fn parse(args: &[String]) -> Result<DemoOptions, String> {
    let mut options = DemoOptions { addr: SocketAddr::from(([127, 0, 0, 1], 9464)), run_for: None };
    let mut rest = args.iter();
    match rest.next().map(String::as_str) {
        Some("demo") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".into()),
    }
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => options.addr = value.parse().map_err(|_| format!("bad address {value:?}"))?,
            "--seconds" => {
                let secs: u64 = value.parse().map_err(|_| format!("bad number of seconds {value:?}"))?;
                options.run_for = Some(Duration::from_secs(secs));
            }
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn demo_defaults_to_the_loopback_port_9464() {
        let options = parse(&args("demo")).unwrap();
        assert_eq!(options.addr.to_string(), "127.0.0.1:9464");
        assert_eq!(options.run_for, None);
    }

    #[test]
    fn flags_are_read_and_bad_ones_refused() {
        let options = parse(&args("demo --addr 127.0.0.1:0 --seconds 3")).unwrap();
        assert_eq!(options.run_for, Some(Duration::from_secs(3)));
        assert!(parse(&args("demo --seconds x")).is_err());
        assert!(parse(&args("demo --port 1")).is_err());
        assert!(parse(&args("serve")).is_err());
        assert!(parse(&[]).is_err());
    }
}
