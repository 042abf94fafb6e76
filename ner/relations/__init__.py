"""Relation extraction (GPLinker-style): a character encoder with GlobalPointer heads that read
``(subject, predicate, object)`` triples from a sentence. TensorFlow/Keras code, like ``ner``."""


def default_model_dir() -> str:
    """Path of the bundled relation model (``kgpipe/ner/relations/default_model``)."""
    import importlib.resources

    return str(importlib.resources.files("kgpipe.ner.relations").joinpath("default_model"))
