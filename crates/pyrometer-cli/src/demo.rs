//! The demo service: a pretend web app that instruments itself and serves its metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyrometer_core::{
    Buckets, Counter, Family, Gauge, Info, Metadata, NativeHistogram, NativeHistogramOptions, Registry, StateSet,
    States,
};

use crate::serve::{self, ServeOptions};

/// The app's instruments.
struct Instruments {
    requests: Family<Counter>,
    latency: Family<NativeHistogram>,
    in_flight: Gauge,
    queue_state: StateSet,
}

fn instruments(registry: &Registry) -> Result<Instruments, pyrometer_core::Error> {
    let requests = Family::<Counter>::new(
        Metadata::new("http_requests_total", "HTTP requests served.")
            .namespace("demo")
            .label_names(["method", "route", "code"]),
    )?;
    // Native buckets for a Prometheus that scrapes them, classic ones beside for the text formats.
    let latency = Family::<NativeHistogram>::with_options(
        Metadata::new("http_request_duration", "HTTP request latency.")
            .namespace("demo")
            .unit("seconds")
            .label_names(["route"]),
        NativeHistogramOptions {
            classic: Some(Buckets::exponential(0.001, 2.0, 14)?),
            ..NativeHistogramOptions::default()
        },
    )?;
    let in_flight =
        Family::<Gauge>::new(Metadata::new("http_requests_in_flight", "Requests being served.").namespace("demo"))?;
    let build = Family::<Info>::new(Metadata::new("build", "Build information.").namespace("demo"))?;
    let queue = Family::<StateSet>::with_options(
        Metadata::new("queue_state", "State of the work queue.").namespace("demo"),
        States::new(["idle", "busy", "draining"]),
    )?;
    registry.register(requests.clone())?;
    registry.register(latency.clone())?;
    registry.register(in_flight.clone())?;
    registry.register(build.clone())?;
    registry.register(queue.clone())?;
    build.without_labels()?.set([("version", env!("CARGO_PKG_VERSION")), ("language", "rust")])?;
    Ok(Instruments { requests, latency, in_flight: in_flight.without_labels()?, queue_state: queue.without_labels()? })
}

/// A small, seedable pseudo-random source (xorshift64*): the demo needs variety, not quality.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Makes traffic until `stop` is set: about a hundred requests a second.
fn traffic(app: &Instruments, stop: &AtomicBool) -> Result<(), pyrometer_core::Error> {
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let routes = ["/", "/api/users", "/api/orders", "/health"];
    let methods = ["GET", "GET", "GET", "POST"];
    // Relaxed: the flag carries no data; the thread only needs to see it eventually.
    while !stop.load(Ordering::Relaxed) {
        let route = rng.pick(&routes);
        let method = rng.pick(&methods);
        let code = if rng.unit() < 0.03 { "500" } else { "200" };
        app.in_flight.inc(1.0);
        // Latency: mostly milliseconds, with a long tail.
        let seconds = 0.002 * (1.0 / (1.0 - rng.unit()).max(1e-3)).powf(1.3);
        app.latency.labels(&[route])?.observe(seconds);
        app.requests.labels(&[method, route, code])?.inc();
        app.in_flight.dec(1.0);
        let state = match rng.next() % 100 {
            0..=69 => "busy",
            70..=97 => "idle",
            _ => "draining",
        };
        app.queue_state.set_exclusive(state)?;
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Runs the demo until Ctrl-C or the requested time is up.
pub(crate) fn run(options: &ServeOptions) -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::new();
    let app = instruments(&registry)?;
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        std::thread::spawn(move || traffic(&app, &stop))
    };
    let served = serve::until_stopped(registry, options, "pyrometer demo");
    stop.store(true, Ordering::Relaxed);
    worker.join().map_err(|_| "the traffic thread panicked")??;
    served
}
