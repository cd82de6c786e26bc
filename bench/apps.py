from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmarks' commands (seed_bulk); installed only by bench/settings.py."""

    name = "bench"
    verbose_name = "Benchmarks"
