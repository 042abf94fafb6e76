"""Relation extraction (GPLinker-style): a character encoder with GlobalPointer heads that read
``(subject, predicate, object)`` triples from a sentence. TensorFlow/Keras code, like ``ner``."""
