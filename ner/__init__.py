"""kgpipe NER: ALBERT-based named entity recognition in TensorFlow.

Import submodules directly (``from kgpipe.ner.tagger import MentionTagger``); this
package imports nothing heavy so that ``ner.windows`` stays TensorFlow-free.
"""
