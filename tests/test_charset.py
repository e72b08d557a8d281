import pytest

from textsynth import Charset, TextsynthError


def test_seed_string_gets_the_seed_label_ids():
    assert Charset.default().encode("pIm6idNRDQwTn") == [15, 34, 12, 58, 8, 3, 39, 43, 29, 42, 22, 45, 13]


def test_default_alphabet_layout_and_blank():
    cs = Charset.default()
    assert len(cs) == 68
    assert cs.encode("az") == [0, 25] and cs.encode("AZ") == [26, 51] and cs.encode("09") == [52, 61]
    assert cs.encode(" .,-':") == [62, 63, 64, 65, 66, 67]
    assert cs.blank == 68


def test_decode_inverts_encode_and_skips_padding():
    cs = Charset.default()
    ids = cs.encode("Hello, World-42")
    assert cs.decode(ids + [-1, -1]) == "Hello, World-42"


def test_text_outside_the_charset_names_the_characters():
    with pytest.raises(TextsynthError, match=r"'é'.*'!'|'!'.*'é'"):
        Charset.default().encode("café!")


def test_unicode_is_nfc_normalized_before_encoding():
    cs = Charset.from_string("cafe\u00e9")
    assert cs.encode("cafe\u0301") == cs.encode("caf\u00e9") == [0, 1, 2, 4]


def test_file_and_json_round_trip(tmp_path):
    path = tmp_path / "symbols.txt"
    path.write_text("a\nb\n \nä\n", encoding="utf-8")
    cs = Charset.from_file(path)
    assert cs.symbols == ("a", "b", " ", "ä")
    assert Charset.from_json(cs.to_json()) == cs
    assert Charset.from_spec(str(path)) == cs


def test_duplicate_symbols_are_an_error():
    with pytest.raises(TextsynthError, match="duplicate"):
        Charset.from_string("abca")
