"""Knowledge base, synonym lexicon, embeddings, FAISS indexes and the request→service-function matcher."""
