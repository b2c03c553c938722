"""Claims between replicas on a real directory: exclusive, renewable, taken over only when stale."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from service.jobs.leases import LeaseWatch, current_leases, release, renew, superseded, try_claim


def test_only_one_of_many_racing_claimers_wins(tmp_path):
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: try_claim(str(tmp_path), "e3", 0), range(64)))
    assert sum(r is not None for r in results) == 1
    assert current_leases(str(tmp_path))["e3"].generation == 0


def test_a_stale_claim_is_taken_over_and_its_holder_learns_it(tmp_path):
    d = str(tmp_path)
    holder = try_claim(d, "d0", 0)
    assert holder is not None and renew(holder)
    watch = LeaseWatch(lease_seconds=10)
    view = current_leases(d)["d0"]
    assert not watch.stale("job", "d0", view, now=100.0)  # first sight starts this observer's clock
    assert not watch.stale("job", "d0", view, now=109.0)
    assert renew(holder)  # a renewal changes the content: the clock starts again
    view = current_leases(d)["d0"]
    assert not watch.stale("job", "d0", view, now=115.0)
    assert watch.stale("job", "d0", view, now=125.0)  # unchanged for a whole lease
    taker = try_claim(d, "d0", view.generation + 1, taken_over=True)
    assert taker is not None and try_claim(d, "d0", view.generation + 1) is None
    assert superseded(holder) and not renew(holder)
    assert not superseded(taker)


def test_a_released_claim_is_free_at_once(tmp_path):
    d = str(tmp_path)
    claim = try_claim(d, "e1", 0)
    assert claim is not None
    release(claim)
    view = current_leases(d)["e1"]
    assert view.released
    assert try_claim(d, "e1", view.generation + 1) is not None


def test_temporary_files_are_never_read_as_claims(tmp_path):
    (tmp_path / ".tmp-abc").write_text("x")
    (tmp_path / "junk").write_text("x")
    assert current_leases(str(tmp_path)) == {}
