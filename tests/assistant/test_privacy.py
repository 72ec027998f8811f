"""Personal data is masked in logs and in the eval report."""

import logging

import pytest

from assistant.privacy import MaskingFilter, mask


@pytest.mark.parametrize(("text", "masked"), [
    pytest.param("王先生 13812345678 住3栋2单元501", "*先生 138****5678 住3栋2单元***室", id="all-three"),
    pytest.param("我叫张伟，电话138-1234-5678", "我叫张*，电话138****5678", id="called"),
    pytest.param("座机020-88880000", "座机020-****0000", id="landline"),
    pytest.param("12幢3单元301室", "12幢3单元***室", id="room"),
    pytest.param("物业费2.8元每平，押金3000元", "物业费2.8元每平，押金3000元", id="figures-untouched"),
])
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("wuye.test.privacy")
    logger.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="wuye.test.privacy"):
        logger.info("ticket for %s at %s", "13912345678", "5栋1203室")
    assert "13912345678" not in caplog.text and "139****5678" in caplog.text
    assert "1203" not in caplog.text
