"""Growth: thirty nightly runs of unchanged sites leave the database at most 1.5 times its size after the
first (tests/bench/growth.py measures the same with more sites and reports the figure)."""
from tests.bench.growth import measure
from tests.unit.test_storage import db_url, pg_database  # noqa: F401 (fixtures)


def test_thirty_unchanged_nights_grow_the_database_little(db_url):
    sizes = measure(db_url, sites=200, nights=30, checks=8)
    ratio = sizes[-1] / sizes[0]
    print(f"growth after 30 nights: {sizes[0]} -> {sizes[-1]} bytes, ratio {ratio:.3f}")
    assert ratio <= 1.5
