"""Tiny source distributions for tests: a pure-Python one and a C extension that links libzstd."""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path


def sdist(path: Path, files: dict[str, str], *, top: str = "probe-1.0") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in sorted(files.items()):
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1
            tar.addfile(info, io.BytesIO(data))
    return path


PURE = {
    "PKG-INFO": "Metadata-Version: 2.1\nName: probe\nVersion: 1.0\n",
    "setup.py": "from setuptools import setup\nsetup(name='probe', version='1.0', py_modules=['probe'])\n",
    "probe.py": "ANSWER = 42\n",
}
C_EXT = {
    "PKG-INFO": "Metadata-Version: 2.1\nName: cprobe\nVersion: 1.0\n",
    "setup.py": """\
        from setuptools import Extension, setup
        setup(name="cprobe", version="1.0",
              ext_modules=[Extension("cprobe", ["cprobe.c"], libraries=["zstd"])])
        """,
    "cprobe.c": """\
        #include <Python.h>
        #include <zstd.h>
        static PyObject *version(PyObject *self, PyObject *args) { return PyLong_FromLong(ZSTD_versionNumber()); }
        static PyMethodDef methods[] = {{"zstd_version", version, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
        static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cprobe", NULL, -1, methods};
        PyMODINIT_FUNC PyInit_cprobe(void) { return PyModule_Create(&module); }
        """,
}


