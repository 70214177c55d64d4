import pytest


@pytest.fixture(scope="session")
def minilm():
    """The real embedded MiniLM, loaded once for the whole session."""
    from ennead.core.retrieval.embedders import get_embedder

    return get_embedder("minilm", device="cpu")


@pytest.fixture()
def docs():
    return [
        {
            "id": "paris",
            "title": "Paris",
            "text": "Paris is the capital and largest city of France.",
        },
        {"id": "mito", "text": "The mitochondrion produces most of the chemical energy of a cell."},
        {"id": "jupiter", "text": "Jupiter is the largest planet in the Solar System."},
        {"id": "sonnet", "text": "A sonnet is a poem of fourteen lines with a fixed rhyme scheme."},
        {"id": "python", "text": "Python is a programming language that emphasises readability."},
        {
            "id": "everest",
            "text": "Mount Everest is Earth's highest mountain above sea level.",
            "source": "wiki",
        },
        {
            "id": "bread",
            "text": "Bread is baked from a dough of flour and water, usually with yeast.",
        },
        {
            "id": "piano",
            "text": "The piano is a keyboard instrument whose strings are struck by hammers.",
        },
        {
            "id": "rain",
            "text": "Rain forms when water droplets condense from vapour in the atmosphere.",
        },
        {
            "id": "chess",
            "text": "Chess is a board game for two players on a checkered board of 64 squares.",
        },
    ]
