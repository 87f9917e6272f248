"""pyrometer.values and pyrometer.mmap_dict behave as prometheus_client's do, and their files
are interchangeable with upstream's."""

import importlib
import os
import threading
import warnings

import pytest


@pytest.fixture
def values(lib):
    return importlib.import_module(lib.__name__ + ".values")


@pytest.fixture
def mmap_dict(lib):
    return importlib.import_module(lib.__name__ + ".mmap_dict")


@pytest.fixture
def clean_environment(monkeypatch):
    """Neither variable set, and both restored afterwards, also when the code under test sets one."""
    for name in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
        # Set first so that monkeypatch records the variable, then removed.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return monkeypatch


def _args(typ="counter", mode=None):
    args = (typ, "m", "m_total", ("a",), ("x",), "help")
    return (args, {"multiprocess_mode": mode}) if mode else (args, {})


def test_a_mutex_value_counts_sets_and_keeps_an_exemplar(values):
    value = values.MutexValue(*_args()[0])
    assert value._multiprocess is False
    assert (value.get(), value.get_exemplar()) == (0.0, None)
    value.inc(2)
    value.inc(-0.5)
    assert value.get() == 1.5
    value.set(7, timestamp=123.0)
    assert value.get() == 7
    value.set_exemplar("exemplar")
    assert value.get_exemplar() == "exemplar"


def test_a_mutex_value_adds_up_across_threads(values):
    value = values.MutexValue(*_args()[0])
    threads = [threading.Thread(target=lambda: [value.inc(1) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert value.get() == 4000


def test_the_value_class_follows_the_environment(values, clean_environment, tmp_path):
    assert values.get_value_class() is values.MutexValue
    clean_environment.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    chosen = values.get_value_class()
    assert chosen.__name__ == "MmapedValue" and chosen._multiprocess is True


def test_each_multiprocess_value_class_is_new_and_carries_its_identifier(values, tmp_path, clean_environment):
    first, second = values.MultiProcessValue(lambda: 123), values.MultiProcessValue(lambda: 456)
    assert first is not second
    assert values.MultiProcessValue.__defaults__ == (os.getpid,)
    if values.__name__.startswith("pyrometer"):
        # What the native metrics read to name their process.
        assert (first._process_identifier(), second._process_identifier()) == (123, 456)
        assert values.MultiProcessValue()._process_identifier is os.getpid
    values.close_all_multiprocess_files()


def test_the_lowercase_variable_is_copied_with_a_deprecation_warning(values, clean_environment, tmp_path):
    clean_environment.setenv("prometheus_multiproc_dir", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = values.get_value_class()
        chosen(*_args()[0])
    values.close_all_multiprocess_files()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert [w.category for w in caught] == [DeprecationWarning]
    assert "PROMETHEUS_MULTIPROC_DIR" in str(caught[0].message)


def _files_written(values, tmp_path, monkeypatch):
    """Writes through a multiprocess value class as process 7; returns the directory's files."""
    tmp_path.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    value_class = values.MultiProcessValue(lambda: 7)
    counter = value_class(*_args()[0])
    counter.inc(2)
    counter.inc(3)
    args, kwargs = _args("gauge", "livesum")
    gauge = value_class(*args, **kwargs)
    gauge.set(4, timestamp=99.0)
    assert (counter.get(), gauge.get(), counter.get_exemplar()) == (5, 4, None)
    counter.set_exemplar("ignored")
    values.close_all_multiprocess_files()
    return {path.name: path.read_bytes() for path in tmp_path.iterdir()}


def test_multiprocess_values_used_directly_write_upstreams_files(both, tmp_path, clean_environment):
    upstream, ours = (importlib.import_module(lib.__name__ + ".values") for lib in both)
    want = _files_written(upstream, tmp_path / "upstream", clean_environment)
    got = _files_written(ours, tmp_path / "ours", clean_environment)
    assert sorted(got) == ["counter_7.db", "gauge_livesum_7.db"]
    assert got == want


def test_a_multiprocess_value_moves_to_new_files_after_a_fork(values, tmp_path, clean_environment):
    clean_environment.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    pid = {"value": 1}
    value_class = values.MultiProcessValue(lambda: pid["value"])
    value = value_class(*_args()[0])
    value.inc(1)
    pid["value"] = 2
    assert value.get() == 0.0
    value.inc(5)
    values.close_all_multiprocess_files()
    read = importlib.import_module(values.__name__.replace("values", "mmap_dict")).MmapedDict.read_all_values_from_file
    assert [v for _, v, _, _ in read(str(tmp_path / "counter_1.db"))] == [1.0]
    assert [v for _, v, _, _ in read(str(tmp_path / "counter_2.db"))] == [5.0]


def test_mmap_dict_round_trips_and_grows(mmap_dict, tmp_path):
    path = str(tmp_path / "d.db")
    d = mmap_dict.MmapedDict(path)
    long_key = "a" * mmap_dict._INITIAL_MMAP_SIZE * 2
    d.write_value("abc", 42.0, 987.0)
    d.write_value(long_key, 123.0, 876.0)
    d.write_value("é", 17.0, 0.0)
    assert d.read_value("abc") == (42.0, 987.0)
    assert d.read_value("new") == (0.0, 0.0)
    d.close()
    d.close()
    reopened = mmap_dict.MmapedDict(path)
    expected = [("abc", 42.0, 987.0), (long_key, 123.0, 876.0), ("é", 17.0, 0.0), ("new", 0.0, 0.0)]
    assert list(reopened.read_all_values()) == expected
    reopened.close()
    assert [entry[:3] for entry in mmap_dict.MmapedDict.read_all_values_from_file(path)] == expected
    reader = mmap_dict.MmapedDict(path, read_mode=True)
    assert list(reader.read_all_values()) == expected
    reader.close()


def test_mmap_dict_detects_corruption(mmap_dict, tmp_path):
    d = mmap_dict.MmapedDict(str(tmp_path / "d.db"))
    d.write_value("abc", 42.0, 987.0)
    d._m[8:16] = b"somejunk"
    with pytest.raises(RuntimeError, match="corrupted"):
        list(d.read_all_values())
    d.close()


@pytest.mark.parametrize("key_length", range(0, 17))
def test_mmap_dict_files_are_byte_identical_to_upstreams(both, tmp_path, key_length):
    written = []
    for lib in both:
        mmap_dict = importlib.import_module(lib.__name__ + ".mmap_dict")
        path = tmp_path / f"{lib.__name__}.db"
        d = mmap_dict.MmapedDict(str(path))
        d.write_value("k" * key_length, 1.5, 2.5)
        d.write_value("second", -1.0, 0.0)
        d.close()
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_each_reads_the_others_files(both, tmp_path):
    upstream, ours = (importlib.import_module(lib.__name__ + ".mmap_dict") for lib in both)
    for writer, reader in ((upstream, ours), (ours, upstream)):
        path = str(tmp_path / f"{writer.__name__}.db")
        d = writer.MmapedDict(path)
        d.write_value("x", 3.0, 4.0)
        d.close()
        assert list(reader.MmapedDict.read_all_values_from_file(path))[0][:3] == ("x", 3.0, 4.0)
        again = reader.MmapedDict(path)
        again.write_value("y", 5.0, 6.0)
        assert list(again.read_all_values()) == [("x", 3.0, 4.0), ("y", 5.0, 6.0)]
        again.close()


def test_mmap_key_is_upstreams(both):
    keys = [
        importlib.import_module(lib.__name__ + ".mmap_dict").mmap_key("m", "m_total", ["b", "a"], ["2", "é"], "help")
        for lib in both
    ]
    assert keys[0] == keys[1]


def test_choosing_the_value_class_warns_about_the_lowercase_variable(clean_environment, tmp_path):
    """Ours only: upstream warns at the first value made instead (see docs/compat.md)."""
    values = importlib.import_module("pyrometer.values")
    clean_environment.setenv("prometheus_multiproc_dir", str(tmp_path))
    with pytest.warns(DeprecationWarning, match="PROMETHEUS_MULTIPROC_DIR"):
        values.get_value_class()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    values.close_all_multiprocess_files()
