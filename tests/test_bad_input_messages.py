"""Issue 24: bad input outside annotate/score gets one clear line naming the parameter or
file (a seed numpy cannot take, a records list typed with commas, fetch while offline),
and 16-bit images are scaled, not clipped."""
import numpy as np
import pytest

import ecgutils as eu


def test_a_seed_numpy_cannot_take_is_refused_naming_the_parameter():
    with pytest.raises(ValueError, match="parameter 'seed'.*4294967295"):
        eu.config.set_seed(2**40)
    eu.config.set_seed(2**32 - 1)


def test_records_typed_with_commas_are_read_alike_everywhere(tmp_path):
    parsed = eu.config.parse_parameter("records", "100, 999", "list", item="str")
    assert eu.data.check_records_exist("100, 999", root=tmp_path) == parsed == ["100", "999"]


def test_fetch_offline_leaves_no_empty_database_folder(tmp_path):
    with pytest.raises(ConnectionError):
        eu.data.fetch_database("testdb", root=tmp_path / "root",
                               base_url="http://127.0.0.1:9/testdb/1.0.0")
    assert not (tmp_path / "root").exists()


def test_a_16_bit_image_is_scaled_to_8_bits_not_clipped(tmp_path):
    from PIL import Image

    levels = np.linspace(0, 65535, 10).astype(np.uint16)  # ten grey levels, 16 bits
    Image.fromarray(np.tile(np.repeat(levels, 10), (100, 1))).save(tmp_path / "g16.png")
    array, notes = eu.images.load_image_file(tmp_path / "g16.png", (100, 100), "grayscale")
    assert len(np.unique(array)) == 10
    assert "16-bit grey levels scaled to 8 bits" in notes
