"""What machine a benchmark ran on: the CPU, the BLAS numpy multiplies with and
its kernel, blis's kernel (spaCy's products), the library versions, and the
single-thread float32 gemm peak measured there.

    python bench/machine.py        # prints the record as JSON
"""

import ctypes
import json
import os
import platform
import time
from importlib import metadata
from typing import Any, Dict, List, Optional

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# the instruction sets that decide which gemm kernels a library picks
_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")


def cpu() -> Dict[str, Any]:
    """The first CPU's model name, vendor, family / model / stepping numbers and
    SIMD flags from /proc/cpuinfo (platform's description elsewhere), and the
    number of logical CPUs."""
    fields: Dict[str, str] = {}
    try:
        text = open("/proc/cpuinfo", encoding="utf8").read()
    except OSError:
        text = ""
    for line in text.splitlines():
        if not line.strip() and fields:
            break  # the first processor's block is enough
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    return {
        "model": fields.get("model name") or platform.processor() or platform.machine(),
        "vendor": fields.get("vendor_id"),
        "family_model_stepping": "/".join(
            fields.get(k, "?") for k in ("cpu family", "model", "stepping")
        ),
        "flags": [flag for flag in _FLAGS if flag in flags],
        "cores": os.cpu_count(),
    }


def blas() -> List[Dict[str, Any]]:
    """threadpoolctl's record of each BLAS library loaded by numpy: its
    ``internal_api`` (openblas, mkl, blis, ...), kernel ``architecture``,
    version and file."""
    import numpy  # noqa: F401  (loads numpy's BLAS)
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "architecture", "version", "threading_layer", "num_threads")
    return [
        {**{k: info.get(k) for k in keep}, "file": os.path.basename(info.get("filepath", ""))}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]


def blis_kernel() -> Optional[Dict[str, Any]]:
    """The kernel set (e.g. ``haswell``, ``skx``, ``zen3``) and version of the
    blis library inside the ``blis`` package (thinc's and spaCy's gemm), read
    from its own query functions; None if blis is not installed or does not
    export them."""
    try:
        import blis.cy
    except ImportError:
        return None
    try:
        lib = ctypes.CDLL(blis.cy.__file__)
        lib.bli_arch_query_id.restype = ctypes.c_int
        lib.bli_arch_string.restype = ctypes.c_char_p
        lib.bli_info_get_version_str.restype = ctypes.c_char_p
        arch = lib.bli_arch_string(lib.bli_arch_query_id()).decode()
        version = lib.bli_info_get_version_str().decode()
    except (OSError, AttributeError):
        return {"kernel": None, "package": _version("blis")}
    return {"kernel": arch, "library": version, "package": _version("blis")}


def _version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def gemm_peak(size: int = 1536, seconds: float = 1.0) -> float:
    """GFLOP/s of numpy's float32 matmul of two size x size matrices on one
    thread: the best of repeated timings (CPU time of the process, so time spent
    waiting for a core on a shared machine does not count) over at least
    ``seconds`` of CPU time."""
    import numpy
    from threadpoolctl import threadpool_limits

    rng = numpy.random.default_rng(0)
    A = rng.standard_normal((size, size)).astype("float32")
    B = rng.standard_normal((size, size)).astype("float32")
    out = numpy.empty((size, size), dtype="float32")
    flops = 2.0 * size**3
    best = float("inf")
    with threadpool_limits(limits=1, user_api="blas"):
        numpy.matmul(A, B, out=out)
        start = time.process_time()
        while time.process_time() - start < seconds or best == float("inf"):
            t = time.process_time()
            numpy.matmul(A, B, out=out)
            best = min(best, time.process_time() - t)
    return round(flops / best / 1e9, 1)


def describe(peak: bool = False) -> Dict[str, Any]:
    """The machine record; with ``peak``, the gemm peak measured now."""
    record: Dict[str, Any] = {
        "cpu": cpu(),
        "blas": blas(),
        "blis": blis_kernel(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "thinc": _version("thinc"),
    }
    if peak:
        record["gemm_peak_gflops"] = gemm_peak()
    return record


def summary(record: Dict[str, Any]) -> str:
    """One line for a table header."""
    cpu_info = record["cpu"]
    parts = [
        f"{cpu_info['model']} (family/model/stepping {cpu_info['family_model_stepping']}, "
        f"{cpu_info['cores']} CPUs, {' '.join(cpu_info['flags'])})"
    ]
    for lib in record.get("blas", []):
        parts.append(
            f"numpy BLAS {lib['internal_api']} {lib['version']} kernel {lib['architecture']}"
        )
    if record.get("blis"):
        parts.append(f"blis {record['blis'].get('package')} kernel {record['blis'].get('kernel')}")
    parts.append(f"numpy {record['numpy']}, thinc {record['thinc']}, Python {record['python']}")
    if record.get("gemm_peak_gflops"):
        parts.append(f"float32 gemm peak {record['gemm_peak_gflops']} GFLOP/s on one thread")
    return "; ".join(parts)


if __name__ == "__main__":
    info = describe(peak=True)
    print(json.dumps(info, indent=2))
    print(summary(info))
