"""kgpipe: knowledge graphs from raw text with Apache Beam, ALBERT NER and entity linking."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
STAGES = ["schemas", "ner", "linking", "kg", "pipeline"]

# Ranges, not pins: lower bounds are the versions measured together (Python 3.11, see
# BENCHMARKS.md), upper bounds the next release that may break us. TensorFlow minors move
# the CUDA libraries and Keras they need, so TF stays within one minor; Beam 2.77 needs
# pyarrow < 26. protobuf comes with TensorFlow and Beam (each declares its own range);
# nothing here imports keras-hub or tqdm, so they are not required.
INSTALL_REQUIRES = [
    "tensorflow>=2.21,<2.22",
    "keras>=3.15,<4",
    "apache-beam>=2.77,<3",
    "pyarrow>=25,<26",
    "numpy>=2.0,<3",
    "rdflib>=7.1,<8",
    "networkx>=3.3,<4",
    "scipy>=1.13,<2",
    "pyoxigraph>=0.5.13,<0.6",  # 0.x: the Python API changes between minors
    "jieba>=0.42.1,<0.43",
    "rapidfuzz>=3.9,<4",
    "opencc-python-reimplemented>=0.1.7,<0.2",
    "pyahocorasick>=2.1,<3",
    "pyshacl>=0.30,<1",
    "gensim>=4.3.3,<5",  # skip-gram pre-training of the NER embeddings
    "real_ladybug>=0.15.3,<0.16",  # LadybugDB (maintained Kuzu): `kgpipe load --store ladybug`
    "lightgbm>=4.3,<5",  # the trained entity-linking ranker (text model, no pickle)
    "onnx>=1.16,<2",  # ner.onnx_runtime builds the CPU inference graph
    "onnxruntime>=1.18,<2",  # and runs it (faster than TensorFlow on CPU, BENCHMARKS.md)
]

setup(
    name="kgpipe",
    version="0.1.0",
    description=__doc__,
    long_description=(HERE / "README.md").read_text("utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.13",
    # The design card's folders stay at the repository root; installed, they live under one
    # namespace of ours (kgpipe.ner, kgpipe.pipeline, ...), so kgpipe claims no generic names.
    packages=[f"kgpipe.{package}" for package in find_packages(include=STAGES + [f"{s}.*" for s in STAGES])],
    package_dir={f"kgpipe.{stage}": stage for stage in STAGES},
    package_data={
        "kgpipe.schemas": ["*.ttl"],
        "kgpipe.ner": ["default_model/*", "default_model/**/*", "medical_model/*"],
        "kgpipe.ner.relations": ["default_model/*"],
        "kgpipe.linking": ["default_kb/*"],
        "kgpipe.pipeline": ["sample/*"],
    },
    install_requires=INSTALL_REQUIRES,
    extras_require={
        # jax: tests/ner/test_backends.py runs the model under KERAS_BACKEND=jax too.
        "test": ["pytest>=8", "pytest-timeout>=2.3", "jax[cpu]>=0.4.30"],
        # On a CUDA machine: TensorFlow's bundled CUDA libraries.
        "gpu": ["tensorflow[and-cuda]>=2.21,<2.22"],
        # bench/ner_vs_jiagu.py compares against Jiagu's documented seg + ner use.
        "bench": ["jiagu>=0.2.3,<0.3", "kuzu>=0.11.3,<0.12"],  # kuzu: bench/store_load.py (archived; LadybugDB vs Kuzu)
    },
    entry_points={"console_scripts": ["kgpipe=kgpipe.pipeline.cli:main"]},
)
