"""Ingest: model preparation, document loaders, chunking, embedding and the index."""

from ingest.chunk import Chunk
from ingest.embed import Embedder, OnnxEmbedder, SentenceTransformerEmbedder, build_embedder
from ingest.errors import IndexMismatchError, IndexMissingError, IngestError, LoaderError, ModelError
from ingest.index import BuildReport, IndexBuilder, KBIndex
from ingest.settings import Backend, IndexType, IngestSettings

__all__ = ["Backend", "BuildReport", "Chunk", "Embedder", "IndexBuilder", "IndexMismatchError", "IndexMissingError",
           "IndexType", "IngestError", "IngestSettings", "KBIndex", "LoaderError", "ModelError",
           "OnnxEmbedder", "SentenceTransformerEmbedder", "build_embedder"]
