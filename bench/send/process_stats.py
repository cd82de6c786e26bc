"""What a benchmark process reports about itself: peak memory and CPU time."""

import resource


def peak_mib():
    """Peak resident memory of this process since it started (Linux's VmHWM), in MiB.

    Not ru_maxrss: Linux carries that over from the parent through fork and exec, so a
    small process started by a big one would report the parent's size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 2)
