"""The registry layer across processes: one layer per process that forked children keep,
multiprocess mode with os.fork, multiprocessing's fork and spawn contexts, the temporary
directory's owner, and push backends in forked children. Each scenario runs in a fresh
interpreter; children exit as servers' workers do (returning, sys.exit), not only os._exit."""

import os
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from _registry_layer import OtlpSink, UdpSink, parsed, run_script

# Starts every scenario from a process with no store directory set (not a spawned child, which
# imports the script again and keeps its parent's).
PRELUDE = """
import os, sys
if __name__ == "__main__":
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    os.environ.pop("prometheus_multiproc_dir", None)
"""


def scenario(code):
    """A script: the prelude, then `code`."""
    return PRELUDE + textwrap.dedent(code)


def test_a_forked_child_keeps_the_layer_and_the_vllm_set_without_declaring_anything_twice(tmp_path):
    out = run_script(
        tmp_path,
        scenario(
            """
        from pyrometer import MetricsRegistry, get_metrics
        layer = MetricsRegistry.get_instance()
        metrics = get_metrics()
        pid = os.fork()
        if pid == 0:
            # Before the fix, the child built a second layer on the inherited REGISTRY and
            # raised DuplicateTimeseries for vllm:num_requests_running.
            assert MetricsRegistry.get_instance() is layer
            assert get_metrics() is metrics
            metrics.prompt_tokens.increment(3, {"model_name": "m", "engine": "0"})
            assert metrics.prompt_tokens.get({"model_name": "m", "engine": "0"}) == 3
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("child exit", status)
        """
        ),
    )
    assert "child exit 0" in out


def test_forked_children_write_their_own_share_and_totals_are_exact(tmp_path):
    out = run_script(
        tmp_path,
        scenario(
            """
        from pyrometer import MetricsRegistry, get_metrics
        layer = MetricsRegistry.get_instance()
        path = layer.setup_multiprocess()
        metrics = get_metrics()
        labels = {"model_name": "m", "engine": "0"}
        # Series made before the fork: in the parent's file.
        preloaded = layer.counter("preloaded", "Made before the fork.")
        preloaded.increment(5)
        metrics.prompt_tokens.increment(1, labels)
        worker = layer.gauge("worker", "Each process's pid.", multiprocess_mode="liveall")
        worker.set(os.getpid())
        metrics.set_cache_config({"block_size": 16})
        go_r, go_w = os.pipe()
        done_r, done_w = os.pipe()
        children = []
        for n in range(3):
            pid = os.fork()
            if pid == 0:
                assert get_metrics() is metrics
                assert preloaded.get() == 0, "a child starts from zero: the parent's count is the parent's"
                preloaded.increment(1)
                metrics.prompt_tokens.increment(10, labels)
                worker.set(os.getpid())
                os.write(done_w, b"x")
                os.read(go_r, 1)
                sys.exit(0)
            children.append(pid)
        for _ in children:
            os.read(done_r, 1)
        print("LIVE")
        print(layer.generate_latest().decode())
        os.write(go_w, b"xxx")
        for pid in children:
            assert os.waitpid(pid, 0)[1] == 0
        print("DONE")
        print(layer.generate_latest().decode())
        print("children", *children)
        """
        ),
    )
    live, done = out.split("LIVE")[1].split("DONE")
    children = done.split("children")[1].split()
    live_samples, done_samples = parsed(live), parsed(done.split("children")[0])
    for samples in (live_samples, done_samples):
        assert samples[("preloaded_total", ())] == 5 + 3
        assert samples[("vllm:prompt_tokens_total", (("engine", "0"), ("model_name", "m")))] == 1 + 30
        assert samples[("vllm:cache_config_info", (("block_size", "16"), ("engine", "0")))] == 1
    # Each live child has a series of its own in a per-process gauge mode.
    assert {labels[0][1] for name, labels in live_samples if name == "worker"} >= set(children)


def _pool_scenario(context):
    return scenario(
        f"""
        import multiprocessing
        from pyrometer import MetricsRegistry, get_metrics

        LABELS = {{"model_name": "m", "engine": "0"}}

        def work(n):
            metrics = get_metrics()
            metrics.prompt_tokens.increment(n, LABELS)
            MetricsRegistry.get_instance().counter("calls", "Calls.").increment()
            return os.getpid()

        def child_exits_normally(n):
            work(n)
            sys.exit(0)

        if __name__ == "__main__":
            layer = MetricsRegistry.get_instance()
            path = layer.setup_multiprocess()
            get_metrics().prompt_tokens.increment(1000, LABELS)
            context = multiprocessing.get_context("{context}")
            with context.Pool(3) as pool:
                pids = set(pool.map(work, range(1, 101)))
            processes = [context.Process(target=child_exits_normally, args=(7,)) for _ in range(2)]
            for p in processes:
                p.start()
            for p in processes:
                p.join(30)
                assert p.exitcode == 0, p.exitcode
            assert os.path.isdir(path), "no child removed the parent's directory"
            print(layer.generate_latest().decode())
            print("collected", sum(v.value for v in layer.collect_all() if v.name == "calls_total"))
        """
    )


def test_multiprocessing_fork_context_counts_every_call_once(tmp_path):
    out = run_script(tmp_path, _pool_scenario("fork"))
    samples = parsed(out.split("collected")[0])
    assert samples[("vllm:prompt_tokens_total", (("engine", "0"), ("model_name", "m")))] == 1000 + 5050 + 14
    assert samples[("calls_total", ())] == 102
    assert float(out.split("collected")[1]) == 102


def test_multiprocessing_spawn_context_counts_every_call_once(tmp_path):
    out = run_script(tmp_path, _pool_scenario("spawn"))
    samples = parsed(out.split("collected")[0])
    assert samples[("vllm:prompt_tokens_total", (("engine", "0"), ("model_name", "m")))] == 1000 + 5050 + 14
    assert samples[("calls_total", ())] == 102


def test_the_temporary_directory_belongs_to_the_process_that_made_it(tmp_path):
    out = run_script(
        tmp_path,
        scenario(
            """
        from pyrometer import MetricsRegistry, CollectorRegistry
        layer = MetricsRegistry(registry=CollectorRegistry())
        path = layer.setup_multiprocess()
        print("path", path)
        counter = layer.counter("work", "Work.")
        pid = os.fork()
        if pid == 0:
            counter.increment(2)
            sys.exit(0)  # runs atexit handlers, as a gunicorn worker's exit does
        assert os.waitpid(pid, 0)[1] == 0
        assert os.path.isdir(path), "the child removed the directory"
        counter.increment(1)
        print(layer.generate_latest().decode())
        """
        ),
    )
    path = out.split("path ")[1].split()[0]
    assert parsed(out.split(path, 1)[1])[("work_total", ())] == 3, "the scrape after the child's exit works"
    assert not os.path.exists(path), "the owner removed it at exit"


def test_a_directory_the_user_gave_is_never_removed(tmp_path):
    directory = tmp_path / "multiproc"
    directory.mkdir()
    run_script(
        tmp_path,
        f"""
        import os, sys
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = {str(directory)!r}
        from pyrometer import MetricsRegistry, CollectorRegistry
        layer = MetricsRegistry(registry=CollectorRegistry())
        assert layer.multiprocess, "multiprocess mode follows pyrometer.values"
        assert layer.setup_multiprocess() == {str(directory)!r}
        layer.counter("work", "Work.").increment()
        if os.fork() == 0:
            sys.exit(0)
        os.wait()
        """,
    )
    assert directory.is_dir() and any(directory.iterdir())


def test_collect_all_in_a_multiprocess_parent_is_the_merged_scrape(tmp_path):
    out = run_script(
        tmp_path,
        scenario(
            """
        from pyrometer import MetricsRegistry, CollectorRegistry, MetricType
        layer = MetricsRegistry(registry=CollectorRegistry())
        layer.setup_multiprocess()
        for worker in range(2):
            if os.fork() == 0:
                # Declared in the children only: the parent's layer does not know it.
                layer.histogram("latency", "Latency.", ["route"], buckets=[1]).observe(0.5, {"route": "/"})
                sys.exit(0)
            os.wait()
        values = layer.collect_all()
        print(sorted((v.name, v.value, v.metric_type.name) for v in values if v.name.startswith("latency")))
        """
        ),
    )
    assert out.strip() == str(
        sorted(
            [
                ("latency_bucket", 2.0, "HISTOGRAM"),
                ("latency_bucket", 2.0, "HISTOGRAM"),
                ("latency_count", 2.0, "HISTOGRAM"),
                ("latency_sum", 1.0, "HISTOGRAM"),
            ]
        )
    )


def _otlp_points(sink):
    """Each export's resource attributes and the `hits` counter's value in it."""
    out = []
    for _, _, request in sink.requests:
        resource = request.resource_metrics[0]
        attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
        hits = [m.sum.data_points[0].as_double for s in resource.scope_metrics for m in s.metrics if m.name == "hits"]
        out.append((attributes, hits))
    return out


def _push_scenario(statsd_port, otlp_url, multiprocess):
    return scenario(
        f"""
        from pyrometer import MetricsBackend, MetricsRegistry, CollectorRegistry
        layer = MetricsRegistry(
            [MetricsBackend.STATSD, MetricsBackend.OPENTELEMETRY],
            registry=CollectorRegistry(),
            statsd_host="127.0.0.1",
            statsd_port={statsd_port},
            flush_interval=3600,
            otlp_endpoint={otlp_url!r},
            export_interval=3600,
            resource_attributes={{"service.name": "svc"}},
        )
        if {multiprocess}:
            layer.setup_multiprocess()
        counter = layer.counter("hits", "Hits.")
        counter.increment(1)  # buffered in the parent's StatsD client when it forks
        pid = os.fork()
        if pid == 0:
            counter.increment(10)
            sys.exit(0)  # closes the child's own backends at exit, and nothing of the parent's
        assert os.waitpid(pid, 0)[1] == 0
        print("child", pid)
        layer.close()
        """
    )


def test_push_backends_start_again_in_a_forked_child(tmp_path):
    udp, http = UdpSink(), OtlpSink()
    try:
        out = run_script(tmp_path, _push_scenario(udp.port, http.url, multiprocess=False))
    finally:
        http.close()
    child = out.split("child")[1].split()[0]
    assert sorted(udp.lines()) == ["hits:10|c", "hits:1|c"], "each line once"
    # Each process exports its own registry (the child's holds what it inherited), told apart.
    assert sorted(_otlp_points(http), key=str) == sorted(
        [({"service.name": "svc", "process.pid": child}, [11.0]), ({"service.name": "svc"}, [1.0])], key=str
    )


def test_in_multiprocess_mode_only_the_layers_maker_exports_over_otlp(tmp_path):
    udp, http = UdpSink(), OtlpSink()
    try:
        run_script(tmp_path, _push_scenario(udp.port, http.url, multiprocess=True))
    finally:
        http.close()
    assert sorted(udp.lines()) == ["hits:10|c", "hits:1|c"]
    # (setup_multiprocess() replaced the exporter, whose close exported the empty registry once.)
    points = [point for point in _otlp_points(http) if point[1]]
    assert points == [({"service.name": "svc"}, [11.0])], "every process's series merged, once"


def test_setup_multiprocess_merges_forked_workers(tmp_path):
    out = run_script(
        tmp_path,
        """
        import os, sys
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry
        r = MetricsRegistry(registry=CollectorRegistry())
        path = r.setup_multiprocess()
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == path and os.path.isdir(path)
        children = []
        for worker in range(3):
            pid = os.fork()
            if pid == 0:
                c = r.counter("work", "Work.", ["kind"])
                c.increment(worker + 1, {"kind": "a"})
                r.gauge("last", "Last.", multiprocess_mode="mostrecent").set(worker)
                sys.exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        print(r.generate_latest().decode())
        """
    )
    assert 'work_total{kind="a"} 6.0' in out
    assert "last " in out


def test_vllm_metrics_work_across_processes(tmp_path):
    out = run_script(
        tmp_path,
        """
        import os, sys
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry, VLLMMetrics
        r = MetricsRegistry(registry=CollectorRegistry())
        r.setup_multiprocess()
        children = []
        for worker in range(2):
            pid = os.fork()
            if pid == 0:
                m = VLLMMetrics(r)
                labels = {"model_name": "m", "engine": str(worker)}
                m.prompt_tokens.increment(10, labels)
                m.e2e_request_latency_seconds.observe(1.2, labels)
                m.num_requests_waiting.set(worker + 5, labels)
                m.set_cache_config({"block_size": 16}, engine=str(worker))
                sys.exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        print(r.generate_latest().decode())
        """
    )
    assert 'vllm:prompt_tokens_total{engine="0",model_name="m"} 10.0' in out
    assert 'vllm:prompt_tokens_total{engine="1",model_name="m"} 10.0' in out
    assert 'vllm:num_requests_waiting{engine="1",model_name="m"} 6.0' in out
    assert 'vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} 1.0' in out


def test_summary_quantiles_merge_across_live_processes(tmp_path):
    out = run_script(
        tmp_path,
        """
        import os, random, sys
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        from pyrometer import MetricsRegistry, CollectorRegistry
        r = MetricsRegistry(registry=CollectorRegistry())
        r.setup_multiprocess()
        values = [random.Random(7).lognormvariate(3, 1) for _ in range(6000)]
        done_r, done_w = os.pipe()
        go_r, go_w = os.pipe()
        children = []
        for worker in range(2):
            pid = os.fork()
            if pid == 0:
                s = r.summary("latency_ms", "Latency.", ["route"], quantiles=(0.5, 0.99))
                for v in values[worker::2]:
                    s.observe(v, {"route": "/"})
                os.write(done_w, b"x")
                os.read(go_r, 1)  # stay alive until the parent has scraped
                sys.exit(0)
            children.append(pid)
        os.read(done_r, 1); os.read(done_r, 1)
        print(r.generate_latest().decode())
        ordered = sorted(values)
        print("exact", ordered[int(0.5 * 5999)], ordered[int(0.99 * 5999)])
        os.write(go_w, b"xx")
        for pid in children:
            os.waitpid(pid, 0)
        """
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out.split("exact")[0])
        for s in family.samples
    }
    exact_median, exact_p99 = map(float, out.split("exact")[1].split())
    median = samples[("latency_ms", (("quantile", "0.5"), ("route", "/")))]
    p99 = samples[("latency_ms", (("quantile", "0.99"), ("route", "/")))]
    assert abs(median - exact_median) <= 0.01 * exact_median
    assert abs(p99 - exact_p99) <= 0.01 * exact_p99
    assert samples[("latency_ms_count", (("route", "/"),))] == 6000
