"""orq-ai-sdk 4.17.13 against a real `baton serve`: memory stores and knowledge bases.

Embeddings come from the testkit fake (`baton-fake openai`), which the server uses as its
OpenAI-compatible provider.
"""

from __future__ import annotations

import uuid

from orq_ai_sdk import Orq

EMBEDDER = "openai/text-embedding-3-small"


def uniq(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def test_memory_store_memories_and_documents(orq: Orq) -> None:
    key = uniq("mem")
    store = orq.memory_stores.create(
        key=key, embedding_config={"model": EMBEDDER}, description="Customer facts", path="Default"
    )
    assert store.key == key
    assert store.embedding_config.model == EMBEDDER
    assert orq.memory_stores.retrieve(memory_store_key=key).id == store.id

    memory = orq.memory_stores.create_memory(memory_store_key=key, entity_id="customer_456")
    assert memory.entity_id == "customer_456"
    doc = orq.memory_stores.create_document(
        memory_store_key=key,
        memory_entity_id="customer_456",
        text="  Prefers email over phone.  ",
        metadata={"source": "ticket"},
    )
    assert doc.text == "Prefers email over phone."
    assert doc.metadata == {"source": "ticket"}
    listed = orq.memory_stores.list_documents(memory_store_key=key, memory_entity_id="customer_456")
    assert [d.id for d in listed.data] == [doc.id]
    again = orq.memory_stores.retrieve_memory(memory_store_key=key, memory_entity_id="customer_456")
    assert again.documents_count == 1


def test_knowledge_base_chunks_and_search(orq: Orq) -> None:
    key = uniq("kb")
    kb = orq.knowledge.create(
        request={"type": "internal", "key": key, "embedding_model": EMBEDDER, "path": "Default"}
    )
    assert kb.key == key
    ds = orq.knowledge.create_datasource(knowledge_id=kb.id, display_name="FAQ")
    assert ds.display_name == "FAQ"
    chunks = orq.knowledge.create_chunks(
        knowledge_id=kb.id,
        datasource_id=ds.id,
        request_body=[
            {"text": "Refunds are paid within 14 days of a return.", "metadata": {"topic": "billing"}},
            {"text": "Standard shipping takes 3 to 5 business days.", "metadata": {"topic": "shipping"}},
        ],
    )
    assert len(chunks) == 2
    found = orq.knowledge.search(knowledge_id=kb.id, query="how long does shipping take", top_k=1)
    assert found.matches[0].text.startswith("Standard shipping")
    assert found.matches[0].scores.search_score > 0
