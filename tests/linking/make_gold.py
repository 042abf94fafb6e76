"""Writes ``tests/linking/data/gold.jsonl``, the linking gold set, from marked-up sentences.

Run from the repository root: ``python -m tests.linking.make_gold``.

Mark-up: ``[surface|LABEL|kb_id]``, ``kb_id`` ``-`` for NIL. The script strips
the marks and computes ``[start, end)`` offsets, so no offset is typed by hand.
The gold ids refer to the bundled default KB (``linking/default_kb``). The
sentences were written for kgpipe: ambiguous names resolved by context,
spelling variants (full-width, traditional, case, spacing), typos, NIL mentions and
near-miss NIL names one character away from a KB name (一汽集团 vs 上汽集团).
"""

from __future__ import annotations

import json
import pathlib
import re

OUT = pathlib.Path(__file__).resolve().parent / "data" / "gold.jsonl"
_MARK = re.compile(r"\[([^\[\]|]+)\|([A-Z]+)\|([^\[\]|]+)\]")

SENTENCES = [
    # fruit vs company
    ("apple-company-1", "[苹果|ORG|Q312]今天发布了新款[iPhone|PRODUCT|kgp:iphone]手机，搭载自研芯片，[蒂姆·库克|PER|kgp:tim-cook]在发布会上介绍了新功能。"),
    ("apple-company-2", "受芯片短缺影响，[苹果|ORG|Q312]的[Mac|PRODUCT|kgp:mac]电脑和平板电脑出货量下降，股价在[纽约|LOC|Q60]收盘下跌。"),
    ("apple-fruit-1", "秋天是吃[苹果|PRODUCT|Q89]的季节，这种水果味甜脆，富含维生素和果胶，可以生吃也可以榨汁。"),
    ("apple-fruit-2", "[山东|LOC|kgp:shandong]烟台的果农今年种的[苹果|PRODUCT|Q89]又大又甜，每斤水果收购价上涨了两毛。"),
    ("xiaomi-company", "[雷军|PER|kgp:lei-jun]宣布[小米|ORG|Q1636958]将推出新款手机和电动汽车，[小米|ORG|Q1636958]的股价随之上涨。"),
    ("xiaomi-grain", "北方人冬天喜欢熬一锅[小米|PRODUCT|kgp:millet]粥，这种黄色的粮食颗粒小，营养丰富。"),
    ("blackberry-fruit", "[黑莓|PRODUCT|kgp:blackberry-fruit]是一种酸甜多汁的浆果，和树莓一样属于蔷薇科水果。"),
    ("blackberry-company", "[黑莓|ORG|kgp:blackberry-company]曾以全键盘手机闻名，这家[加拿大|LOC|Q16]公司如今转型做软件和安全服务。"),
    ("amazon-company", "[亚马逊|ORG|Q3884]的云计算业务增长强劲，电子商务网上商城的销售额也创下新高。"),
    ("amazon-river", "[亚马逊|LOC|kgp:amazon-river]流经[巴西|LOC|Q155]的热带雨林，是世界上流量最大的河流。"),
    ("great-wall", "游客们登上[长城|LOC|kgp:great-wall]，感受古代军事防御工程的雄伟。"),
    ("great-wall-motor", "[长城汽车|ORG|kgp:great-wall-motor]发布了新款哈弗SUV和皮卡车型。"),
    ("li-ning-person", "体操运动员[李宁|PER|kgp:li-ning-person]在奥运会上一人夺得三枚金牌。"),
    ("li-ning-company", "[李宁|ORG|kgp:li-ning]发布了新款跑鞋，这家体育用品公司的运动服销量增长。"),
    ("phoenix", "[凤凰|ORG|kgp:phoenix-tv]卫视的记者在[香港|LOC|Q8646]报道了这则新闻，电视台随后播出专题。"),
    # same-name districts
    ("chaoyang-beijing", "[北京市|LOC|Q956][朝阳区|LOC|kgp:chaoyang-beijing]的CBD商圈聚集了大量跨国公司和使馆。"),
    ("chaoyang-changchun", "[吉林省|LOC|kgp:jilin][长春市|LOC|kgp:changchun][朝阳区|LOC|kgp:chaoyang-changchun]今年新建了三所学校。"),
    ("gulou-nanjing", "[南京大学|ORG|kgp:nju]位于[南京|LOC|kgp:nanjing][鼓楼区|LOC|kgp:gulou-nanjing]，校园里有很多民国建筑。"),
    ("gulou-fuzhou", "[福建省|LOC|kgp:fujian]政府所在地[鼓楼区|LOC|kgp:gulou-fuzhou]是[福州|LOC|kgp:fuzhou]的老城区。"),
    ("gulou-xuzhou", "[徐州|LOC|kgp:xuzhou]市[鼓楼区|LOC|kgp:gulou-xuzhou]的居民参加了社区运动会。"),
    ("xihu-hangzhou", "[杭州|LOC|kgp:hangzhou][西湖区|LOC|kgp:xihu-hangzhou]的风景区每年吸引数千万游客。"),
    ("xihu-nanchang", "[江西|LOC|kgp:jiangxi][南昌|LOC|kgp:nanchang]的[西湖区|LOC|kgp:xihu-nanchang]启动了老旧小区改造。"),
    ("heping-shenyang", "[辽宁省|LOC|kgp:liaoning][沈阳市|LOC|kgp:shenyang][和平区|LOC|kgp:heping-shenyang]开通了新的地铁线路。"),
    ("baiyun-guiyang", "[贵州|LOC|kgp:guizhou][贵阳|LOC|kgp:guiyang]的[白云区|LOC|kgp:baiyun-guiyang]建设了大数据产业园。"),
    ("baiyun-guangzhou", "从[广州|LOC|kgp:guangzhou][白云区|LOC|kgp:baiyun-guangzhou]的白云机场出发，可以直飞[伦敦|LOC|Q84]。"),
    # spelling variants
    ("variant-fullwidth", "[ＡＰＰＬＥ|ORG|Q312]和[ＨＵＡＷＥＩ|ORG|Q160120]在智能手机市场激烈竞争。"),
    ("variant-traditional", "[蘋果公司|ORG|Q312]與[華為|ORG|Q160120]、[騰訊|ORG|Q860580]都在[臺灣|LOC|Q865]設有辦事處。"),
    ("variant-case", "[TENCENT|ORG|Q860580]与[alibaba|ORG|Q1359568]公布了财报，[nvidia|ORG|kgp:nvidia]的芯片供不应求。"),
    ("variant-spacing", "[阿里 巴巴|ORG|Q1359568]和[Micro soft|ORG|Q2283]签署合作协议，[New  York|LOC|Q60]的分析师表示欢迎。"),
    ("variant-punct", "[Coca Cola|PRODUCT|Q2813]和[百事-可乐|PRODUCT|kgp:pepsi]在超市货架上并排摆放。"),
    ("variant-traditional-char", "[华为技朮有限公司|ORG|Q160120]发布了鸿蒙系统的新版本。"),
    ("variant-typo", "[华为技术有线公司|ORG|Q160120]在[深圳|LOC|kgp:shenzhen]发布了新手机。"),
    ("variant-latin-typo-1", "[Nvdia|ORG|kgp:nvidia]的GPU显卡和人工智能芯片供不应求，数据中心业务收入大增。"),
    ("variant-latin-typo-2", "[Huawey|ORG|Q160120]在[深圳|LOC|kgp:shenzhen]发布了新款Mate手机。"),
    ("variant-english", "[Tesla|ORG|Q478214]在[Shanghai|LOC|Q8686]的超级工厂交付了[Model Y|PRODUCT|kgp:model-y]。"),
    # everyday news
    ("news-1", "[国务院|ORG|kgp:state-council]常务会议在[北京|LOC|Q956]召开，部署稳就业工作。"),
    ("news-2", "[中国人民银行|ORG|kgp:pboc]宣布下调存款准备金率，[美联储|ORG|kgp:fed]则维持利率不变。"),
    ("news-3", "[华为|ORG|Q160120]在[深圳|LOC|kgp:shenzhen]发布[鸿蒙|PRODUCT|kgp:harmonyos]系统，[任正非|PER|kgp:ren-zhengfei]出席。"),
    ("news-4", "[比亚迪|ORG|kgp:byd]的新能源汽车在[欧洲|LOC|Q46]销量大增，超过了[特斯拉|ORG|Q478214]。"),
    ("news-5", "[微信|PRODUCT|kgp:wechat]和[支付宝|PRODUCT|kgp:alipay]是[中国|LOC|Q148]最常用的移动支付工具。"),
    ("news-6", "[联合国|ORG|kgp:un]秘书长在[日内瓦|LOC|kgp:geneva]会见了[世界卫生组织|ORG|kgp:who]总干事。"),
    ("news-7", "[京东|ORG|kgp:jd]和[美团|ORG|kgp:meituan]在即时零售领域展开竞争，[百度|ORG|Q14772]则押注自动驾驶。"),
    ("news-8", "[耐克|ORG|Q483915]与[阿迪达斯|ORG|Q3895]在[上海|LOC|Q8686]开设了旗舰店，[索尼|ORG|Q41187]也展示了新款[PlayStation|PRODUCT|kgp:playstation]。"),
    ("news-9", "[三星|ORG|Q20718]在[韩国|LOC|Q884]扩建存储芯片工厂，[联想|ORG|kgp:lenovo]则加大了电脑研发投入。"),
    # NIL mentions
    ("nil-1", "记者[张伟|PER|-]在[石头村|LOC|-]采访了当地村民[王小明|PER|-]。"),
    ("nil-2", "初创公司[星河智造科技|ORG|-]获得了[蓝鲸资本|ORG|-]领投的新一轮融资。"),
    ("nil-3", "[苹果日报|ORG|-]曾是香港的一份报纸，[华盛顿|PER|-]是美国第一任总统。"),
    ("nil-4", "[小米粒科技|ORG|-]是一家做儿童玩具的小公司，与[小米|ORG|Q1636958]没有关系。"),
    ("nil-5", "网红餐厅[老街坊火锅|ORG|-]在[成都|LOC|kgp:chengdu]开了第三家分店，店主[刘小芳|PER|-]很高兴。"),
    # near-miss names: one character from a KB name, but a different company (FAW, not SAIC)
    ("near-miss-1", "[长春市|LOC|kgp:changchun][朝阳区|LOC|kgp:chaoyang-changchun]的汽车零部件企业与[一汽集团|ORG|-]签订了长期供货协议。"),
    ("near-miss-2", "[一汽集团|ORG|-]和[上汽集团|ORG|kgp:saic]公布了上半年的汽车销量。"),
]


def parse(marked: str) -> tuple[str, list[dict]]:
    """Returns the plain text and the mentions of a marked-up sentence."""
    text, mentions, position = [], [], 0
    length = 0
    for match in _MARK.finditer(marked):
        plain = marked[position:match.start()]
        text.append(plain)
        length += len(plain)
        surface, label, kb_id = match.groups()
        mentions.append({"start": length, "end": length + len(surface), "label": label,
                         "kb_id": None if kb_id == "-" else kb_id})
        text.append(surface)
        length += len(surface)
        position = match.end()
    text.append(marked[position:])
    return "".join(text), mentions


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as handle:
        for doc_id, marked in SENTENCES:
            text, mentions = parse(marked)
            handle.write(json.dumps({"id": doc_id, "text": text, "mentions": mentions}, ensure_ascii=False) + "\n")
    print(f"wrote {len(SENTENCES)} documents to {OUT}")


if __name__ == "__main__":
    main()
