"""Summarizes a document: its sentences and words, the most frequent words, the longest
sentence and an estimated reading time. Pure Python; an AsyncAPI runs it from a queue.

POST text/plain (or JSON {"text": ...}); the result is JSON.
"""
import collections
import re

STOP_WORDS = {"the", "a", "an", "and", "or", "of", "to", "in", "is", "it", "that", "for", "on",
              "with", "as", "are", "was", "be", "by", "this", "at", "from"}
WORDS_PER_MINUTE = 230


class PythonPredictor:
    def __init__(self, config):
        self.top_words = int(config.get("top_words", 5))

    def predict(self, payload):
        text = payload.get("text", "") if isinstance(payload, dict) else payload
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        text = str(text)
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
        words = re.findall(r"[a-z']+", text.lower())
        counts = collections.Counter(w for w in words if w not in STOP_WORDS)
        return {
            "sentences": len(sentences),
            "words": len(words),
            "top_words": [w for w, _ in counts.most_common(self.top_words)],
            "longest_sentence": max(sentences, key=len, default=""),
            "reading_minutes": round(len(words) / WORDS_PER_MINUTE, 2),
        }
