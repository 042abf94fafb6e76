"""Shared fixtures for the linking tests: a tiny KB written from Python records."""

from __future__ import annotations

import json

import pytest

TINY_KB = [
    {"id": "Q312", "name": "苹果公司", "aliases": ["苹果", "Apple", "Apple Inc."], "types": ["Organization", "Brand"],
     "description": "美国科技公司，设计和销售iPhone手机、iPad平板电脑和Mac电脑", "prior": 0.9,
     "attributes": {"总部": ["库比蒂诺"]}},
    {"id": "Q89", "name": "苹果", "aliases": ["苹果果实"], "types": ["Fruit"],
     "description": "蔷薇科苹果属植物的果实，味甜，富含维生素，是常见水果，可以生吃或榨汁", "prior": 0.6},
    {"id": "kgp:chaoyang-bj", "name": "朝阳区", "aliases": ["北京朝阳区"], "types": ["District"],
     "description": "北京市市辖区，位于城区东部", "prior": 0.7, "attributes": {"所属城市": ["北京市"]}},
    {"id": "kgp:chaoyang-cc", "name": "朝阳区", "aliases": ["长春朝阳区"], "types": ["District"],
     "description": "吉林省长春市市辖区", "prior": 0.3, "attributes": {"所属城市": ["长春市"]}},
    {"id": "Q956", "name": "北京市", "aliases": ["北京", "Beijing"], "types": ["City"],
     "description": "中华人民共和国首都", "prior": 1.0},
    {"id": "kgp:changchun", "name": "长春市", "aliases": ["长春"], "types": ["City"],
     "description": "吉林省省会", "prior": 0.6},
    {"id": "Q160120", "name": "华为", "aliases": ["华为技术有限公司", "Huawei"], "types": ["Organization"],
     "description": "中国通信设备和智能手机制造商", "prior": 0.9},
]


def write_jsonl(path, records) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return str(path)


@pytest.fixture
def tiny_kb(tmp_path) -> str:
    """Path of a 7-entity JSONL KB with a fruit/company and a district ambiguity."""
    return write_jsonl(tmp_path / "tiny.jsonl", TINY_KB)
