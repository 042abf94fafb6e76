"""Default KB: countries, regions, Chinese provinces, cities and districts, world cities.

Written for kgpipe from general knowledge. Ids are Wikidata QIDs where the
authors are confident of them, otherwise ``kgp:`` ids.
"""

from __future__ import annotations

# (id, name, aliases, description, prior)
COUNTRIES = [
    ("Q148", "中国", "中华人民共和国|China|PRC|People's Republic of China|中國大陸|中国大陆", "东亚国家，首都北京，人口世界第二多", 1.0),
    ("Q30", "美国", "美利坚合众国|United States|USA|US|America|美國", "北美洲国家，首都华盛顿，世界最大经济体", 1.0),
    ("Q17", "日本", "Japan|日本国|Nippon", "东亚岛国，首都东京", 0.95),
    ("Q884", "韩国", "大韩民国|South Korea|Korea|南韩", "东亚国家，位于朝鲜半岛南部，首都首尔", 0.9),
    ("Q423", "朝鲜", "朝鲜民主主义人民共和国|North Korea|DPRK|北韩", "东亚国家，位于朝鲜半岛北部，首都平壤", 0.8),
    ("Q159", "俄罗斯", "俄罗斯联邦|Russia|俄国", "横跨欧亚的国家，国土面积世界最大，首都莫斯科", 0.95),
    ("Q145", "英国", "大不列颠及北爱尔兰联合王国|United Kingdom|UK|Britain|英伦", "西欧岛国，首都伦敦", 0.95),
    ("Q142", "法国", "法兰西共和国|France|法蘭西", "西欧国家，首都巴黎", 0.95),
    ("Q183", "德国", "德意志联邦共和国|Germany|Deutschland", "中欧国家，首都柏林，欧洲最大经济体", 0.95),
    ("Q38", "意大利", "意大利共和国|Italy|Italia|義大利", "南欧国家，首都罗马", 0.9),
    ("Q29", "西班牙", "西班牙王国|Spain|España", "南欧国家，位于伊比利亚半岛，首都马德里", 0.85),
    ("Q16", "加拿大", "Canada", "北美洲国家，首都渥太华", 0.85),
    ("Q408", "澳大利亚", "澳洲|Australia|澳大利亞", "大洋洲国家，首都堪培拉", 0.85),
    ("Q664", "新西兰", "New Zealand|纽西兰", "大洋洲岛国，首都惠灵顿", 0.7),
    ("Q668", "印度", "印度共和国|India", "南亚国家，人口世界第一多，首都新德里", 0.9),
    ("Q155", "巴西", "巴西联邦共和国|Brazil|Brasil", "南美洲最大国家，首都巴西利亚", 0.85),
    ("Q96", "墨西哥", "Mexico|México", "北美洲国家，首都墨西哥城", 0.75),
    ("Q414", "阿根廷", "Argentina", "南美洲国家，首都布宜诺斯艾利斯", 0.75),
    ("Q298", "智利", "Chile", "南美洲西岸国家，首都圣地亚哥", 0.65),
    ("Q419", "秘鲁", "Peru", "南美洲国家，首都利马", 0.6),
    ("Q739", "哥伦比亚", "Colombia", "南美洲国家，首都波哥大", 0.6),
    ("Q717", "委内瑞拉", "Venezuela", "南美洲国家，首都加拉加斯", 0.6),
    ("Q241", "古巴", "Cuba", "加勒比海岛国，首都哈瓦那", 0.6),
    ("Q252", "印度尼西亚", "印尼|Indonesia", "东南亚千岛之国，首都雅加达", 0.8),
    ("Q334", "新加坡", "新加坡共和国|Singapore|狮城", "东南亚城市国家", 0.85),
    ("Q833", "马来西亚", "大马|Malaysia", "东南亚国家，首都吉隆坡", 0.75),
    ("Q869", "泰国", "泰王国|Thailand", "东南亚国家，首都曼谷", 0.8),
    ("Q881", "越南", "越南社会主义共和国|Vietnam|Viet Nam", "东南亚国家，首都河内", 0.8),
    ("Q928", "菲律宾", "Philippines", "东南亚岛国，首都马尼拉", 0.75),
    ("Q836", "缅甸", "Myanmar|Burma", "东南亚国家，首都内比都", 0.65),
    ("Q424", "柬埔寨", "Cambodia|高棉", "东南亚国家，首都金边", 0.6),
    ("Q819", "老挝", "Laos|寮国", "东南亚内陆国家，首都万象", 0.6),
    ("Q843", "巴基斯坦", "Pakistan|巴铁", "南亚国家，首都伊斯兰堡", 0.75),
    ("Q902", "孟加拉国", "Bangladesh|孟加拉", "南亚国家，首都达卡", 0.6),
    ("Q854", "斯里兰卡", "Sri Lanka|锡兰", "南亚岛国，首都科伦坡", 0.6),
    ("Q837", "尼泊尔", "Nepal", "南亚内陆国家，首都加德满都", 0.6),
    ("Q889", "阿富汗", "Afghanistan", "中亚与南亚之间的内陆国家，首都喀布尔", 0.6),
    ("Q232", "哈萨克斯坦", "Kazakhstan", "中亚内陆国家，首都阿斯塔纳", 0.6),
    ("Q711", "蒙古国", "蒙古|Mongolia|外蒙古", "东亚内陆国家，首都乌兰巴托", 0.65),
    ("Q851", "沙特阿拉伯", "沙特|Saudi Arabia", "西亚国家，首都利雅得，石油输出大国", 0.75),
    ("Q878", "阿联酋", "阿拉伯联合酋长国|United Arab Emirates|UAE", "西亚国家，首都阿布扎比", 0.65),
    ("Q846", "卡塔尔", "Qatar", "西亚半岛国家，首都多哈", 0.55),
    ("Q794", "伊朗", "伊朗伊斯兰共和国|Iran|波斯", "西亚国家，首都德黑兰", 0.75),
    ("Q796", "伊拉克", "Iraq", "西亚国家，首都巴格达", 0.65),
    ("Q801", "以色列", "Israel", "西亚国家，位于地中海东岸", 0.7),
    ("Q43", "土耳其", "Türkiye|Turkey|土耳其共和国", "横跨欧亚的国家，首都安卡拉", 0.75),
    ("Q79", "埃及", "Egypt|阿拉伯埃及共和国", "北非国家，首都开罗", 0.75),
    ("Q258", "南非", "South Africa|南非共和国", "非洲南端国家", 0.7),
    ("Q1033", "尼日利亚", "Nigeria", "西非国家，非洲人口最多的国家，首都阿布贾", 0.6),
    ("Q114", "肯尼亚", "Kenya", "东非国家，首都内罗毕", 0.55),
    ("Q115", "埃塞俄比亚", "Ethiopia", "东非内陆国家，首都亚的斯亚贝巴", 0.55),
    ("Q55", "荷兰", "Netherlands|Holland|尼德兰", "西欧国家，首都阿姆斯特丹", 0.75),
    ("Q31", "比利时", "Belgium", "西欧国家，首都布鲁塞尔", 0.65),
    ("Q39", "瑞士", "Switzerland|瑞士联邦", "中欧内陆国家，首都伯尔尼", 0.75),
    ("Q40", "奥地利", "Austria", "中欧内陆国家，首都维也纳", 0.65),
    ("Q34", "瑞典", "Sweden", "北欧国家，首都斯德哥尔摩", 0.7),
    ("Q20", "挪威", "Norway", "北欧国家，首都奥斯陆", 0.65),
    ("Q35", "丹麦", "Denmark", "北欧国家，首都哥本哈根", 0.65),
    ("Q33", "芬兰", "Finland", "北欧国家，首都赫尔辛基", 0.65),
    ("Q36", "波兰", "Poland", "中欧国家，首都华沙", 0.65),
    ("Q212", "乌克兰", "Ukraine", "东欧国家，首都基辅", 0.75),
    ("Q41", "希腊", "Greece", "南欧国家，首都雅典", 0.65),
    ("Q45", "葡萄牙", "Portugal", "南欧国家，首都里斯本", 0.65),
    ("Q27", "爱尔兰", "Ireland", "西欧岛国，首都都柏林", 0.6),
]

# (id, name, aliases, types, description, prior)
REGIONS = [
    ("Q8646", "香港", "香港特别行政区|Hong Kong|HK|香港特區", ["Region", "City"], "中华人民共和国特别行政区，国际金融中心", 0.9),
    ("Q14773", "澳门", "澳门特别行政区|Macau|Macao|澳門", ["Region", "City"], "中华人民共和国特别行政区，以博彩旅游业闻名", 0.8),
    ("Q865", "台湾", "台湾地区|中国台湾|Taiwan|臺灣", ["Region"], "中国东南沿海的岛屿地区", 0.9),
    ("Q46", "欧洲", "Europe|欧罗巴洲", ["Region"], "位于东半球西北部的大洲", 0.85),
    ("Q48", "亚洲", "Asia|亚细亚洲", ["Region"], "世界面积最大、人口最多的大洲", 0.85),
    ("Q15", "非洲", "Africa|阿非利加洲", ["Region"], "世界第二大洲", 0.8),
    ("Q49", "北美洲", "北美|North America", ["Region"], "西半球北部的大洲", 0.75),
    ("Q18", "南美洲", "南美|South America", ["Region"], "西半球南部的大洲", 0.7),
    ("kgp:oceania", "大洋洲", "Oceania", ["Region"], "太平洋中的大洲，包括澳大利亚和新西兰", 0.6),
    ("kgp:southeast-asia", "东南亚", "Southeast Asia", ["Region"], "亚洲东南部地区，包括中南半岛和马来群岛", 0.65),
    ("kgp:middle-east", "中东", "中东地区|Middle East", ["Region"], "西亚和北非的部分地区", 0.65),
    ("kgp:yangtze-delta", "长三角", "长江三角洲|Yangtze River Delta", ["Region"], "以上海为中心的长江入海口冲积平原城市群", 0.6),
    ("kgp:pearl-delta", "珠三角", "珠江三角洲|粤港澳大湾区|大湾区", ["Region"], "广东中南部珠江入海口的城市群", 0.6),
]

# (slug, full name, short name / abbreviations, english, capital, description, prior)
PROVINCES = [
    ("guangdong", "广东省", "广东|粤", "Guangdong", "广州市", "中国华南沿海省份，经济总量居全国前列", 0.85),
    ("jiangsu", "江苏省", "江苏|苏", "Jiangsu", "南京市", "中国华东沿海省份", 0.8),
    ("zhejiang", "浙江省", "浙江|浙", "Zhejiang", "杭州市", "中国华东沿海省份，民营经济发达", 0.8),
    ("shandong", "山东省", "山东|鲁", "Shandong", "济南市", "中国华东沿海省份，孔子故乡", 0.8),
    ("henan", "河南省", "河南|豫", "Henan", "郑州市", "中国中部省份，中华文明发源地之一", 0.75),
    ("hebei", "河北省", "河北|冀", "Hebei", "石家庄市", "中国华北省份，环绕北京和天津", 0.75),
    ("sichuan", "四川省", "四川|川|蜀", "Sichuan", "成都市", "中国西南省份，以大熊猫和川菜闻名", 0.8),
    ("hubei", "湖北省", "湖北|鄂", "Hubei", "武汉市", "中国中部省份，长江中游", 0.75),
    ("hunan", "湖南省", "湖南|湘", "Hunan", "长沙市", "中国中部省份，洞庭湖以南", 0.75),
    ("fujian", "福建省", "福建|闽", "Fujian", "福州市", "中国东南沿海省份，与台湾隔海相望", 0.75),
    ("anhui", "安徽省", "安徽|皖", "Anhui", "合肥市", "中国华东内陆省份", 0.7),
    ("jiangxi", "江西省", "江西|赣", "Jiangxi", "南昌市", "中国华东内陆省份", 0.7),
    ("shanxi", "山西省", "山西|晋", "Shanxi", "太原市", "中国华北省份，煤炭资源丰富", 0.7),
    ("shaanxi", "陕西省", "陕西|陕|秦", "Shaanxi", "西安市", "中国西北省份，古都西安所在地", 0.7),
    ("liaoning", "辽宁省", "辽宁|辽", "Liaoning", "沈阳市", "中国东北沿海省份", 0.7),
    ("jilin", "吉林省", "吉林|吉", "Jilin", "长春市", "中国东北省份，汽车工业基地", 0.65),
    ("heilongjiang", "黑龙江省", "黑龙江|黑", "Heilongjiang", "哈尔滨市", "中国最北端的省份", 0.65),
    ("yunnan", "云南省", "云南|滇", "Yunnan", "昆明市", "中国西南边疆省份，民族众多", 0.7),
    ("guizhou", "贵州省", "贵州|黔", "Guizhou", "贵阳市", "中国西南内陆省份，茅台酒产地", 0.65),
    ("gansu", "甘肃省", "甘肃|陇", "Gansu", "兰州市", "中国西北省份，丝绸之路要道", 0.6),
    ("qinghai", "青海省", "青海|青", "Qinghai", "西宁市", "中国西北省份，青藏高原东北部", 0.55),
    ("hainan", "海南省", "海南|琼", "Hainan", "海口市", "中国最南端的岛屿省份，自由贸易港", 0.65),
    ("taiwan-province", "台湾省", "", "Taiwan Province", "台北市", "中国行政区划中的省份，辖台湾岛及附属岛屿", 0.4),
    ("guangxi", "广西壮族自治区", "广西|桂", "Guangxi", "南宁市", "中国华南的少数民族自治区", 0.65),
    ("neimenggu", "内蒙古自治区", "内蒙古|蒙", "Inner Mongolia", "呼和浩特市", "中国北部边疆的少数民族自治区", 0.65),
    ("xinjiang", "新疆维吾尔自治区", "新疆|疆", "Xinjiang", "乌鲁木齐市", "中国西北边疆的少数民族自治区，面积最大的省级行政区", 0.7),
    ("xizang", "西藏自治区", "西藏|藏", "Tibet", "拉萨市", "中国西南边疆的少数民族自治区，位于青藏高原", 0.65),
    ("ningxia", "宁夏回族自治区", "宁夏|宁", "Ningxia", "银川市", "中国西北的少数民族自治区", 0.55),
]

# (id, name, short, english, province, description, prior); municipalities have province "".
CITIES = [
    ("Q956", "北京市", "北京|京|Beijing|Peking|北平", "", "中华人民共和国首都，直辖市，全国政治文化中心", 1.0),
    ("Q8686", "上海市", "上海|沪|申|Shanghai", "", "中国直辖市，国际经济金融中心", 0.95),
    ("kgp:tianjin", "天津市", "天津|津|Tianjin", "", "中国直辖市，北方重要港口城市", 0.8),
    ("kgp:chongqing", "重庆市", "重庆|渝|Chongqing|山城", "", "中国西南直辖市，长江上游经济中心", 0.85),
    ("kgp:guangzhou", "广州市", "广州|穗|羊城|Guangzhou|Canton", "广东省", "广东省省会，华南中心城市", 0.9),
    ("kgp:shenzhen", "深圳市", "深圳|鹏城|Shenzhen", "广东省", "广东省副省级市，经济特区，科技创新中心", 0.9),
    ("kgp:dongguan", "东莞市", "东莞|Dongguan", "广东省", "广东省地级市，制造业名城", 0.6),
    ("kgp:foshan", "佛山市", "佛山|Foshan", "广东省", "广东省地级市，家电和陶瓷产业基地", 0.6),
    ("kgp:zhuhai", "珠海市", "珠海|Zhuhai", "广东省", "广东省地级市，经济特区，毗邻澳门", 0.6),
    ("kgp:hangzhou", "杭州市", "杭州|Hangzhou", "浙江省", "浙江省省会，西湖所在地，电子商务之都", 0.85),
    ("kgp:ningbo", "宁波市", "宁波|甬|Ningbo", "浙江省", "浙江省副省级市，港口城市", 0.65),
    ("kgp:wenzhou", "温州市", "温州|Wenzhou", "浙江省", "浙江省地级市，民营经济发达", 0.6),
    ("kgp:shaoxing", "绍兴市", "绍兴|Shaoxing", "浙江省", "浙江省地级市，鲁迅故乡，黄酒之乡", 0.5),
    ("kgp:nanjing", "南京市", "南京|宁|金陵|Nanjing", "江苏省", "江苏省省会，六朝古都", 0.85),
    ("kgp:suzhou", "苏州市", "苏州|姑苏|Suzhou", "江苏省", "江苏省地级市，园林之城，制造业重镇", 0.75),
    ("kgp:wuxi", "无锡市", "无锡|Wuxi", "江苏省", "江苏省地级市，太湖之滨", 0.6),
    ("kgp:changzhou", "常州市", "常州|Changzhou", "江苏省", "江苏省地级市", 0.5),
    ("kgp:xuzhou", "徐州市", "徐州|彭城|Xuzhou", "江苏省", "江苏省地级市，淮海经济区中心", 0.55),
    ("kgp:zhoushan", "舟山市", "舟山|Zhoushan", "浙江省", "浙江省地级市，海岛城市，普陀山所在地", 0.45),
    ("kgp:yangzhou", "扬州市", "扬州|Yangzhou", "江苏省", "江苏省地级市，运河名城", 0.5),
    ("kgp:jinan", "济南市", "济南|泉城|Jinan", "山东省", "山东省省会，泉城", 0.7),
    ("kgp:qingdao", "青岛市", "青岛|Qingdao|Tsingtao", "山东省", "山东省副省级市，海滨城市，啤酒之城", 0.75),
    ("kgp:yantai", "烟台市", "烟台|Yantai", "山东省", "山东省地级市，港口城市", 0.5),
    ("kgp:zhengzhou", "郑州市", "郑州|Zhengzhou", "河南省", "河南省省会，全国交通枢纽", 0.7),
    ("kgp:luoyang", "洛阳市", "洛阳|Luoyang", "河南省", "河南省地级市，十三朝古都，牡丹之城", 0.55),
    ("kgp:kaifeng", "开封市", "开封|汴梁|Kaifeng", "河南省", "河南省地级市，北宋都城", 0.5),
    ("kgp:shijiazhuang", "石家庄市", "石家庄|Shijiazhuang", "河北省", "河北省省会", 0.6),
    ("kgp:chengdu", "成都市", "成都|蓉|Chengdu", "四川省", "四川省省会，天府之国，西南中心城市", 0.85),
    ("kgp:wuhan", "武汉市", "武汉|江城|Wuhan", "湖北省", "湖北省省会，华中中心城市，长江与汉江交汇处", 0.85),
    ("kgp:changsha", "长沙市", "长沙|星城|Changsha", "湖南省", "湖南省省会", 0.7),
    ("kgp:fuzhou", "福州市", "福州|榕城|Fuzhou", "福建省", "福建省省会", 0.65),
    ("kgp:xiamen", "厦门市", "厦门|鹭岛|Xiamen|Amoy", "福建省", "福建省副省级市，经济特区，海滨城市", 0.7),
    ("kgp:hefei", "合肥市", "合肥|庐州|Hefei", "安徽省", "安徽省省会，科技创新城市", 0.65),
    ("kgp:nanchang", "南昌市", "南昌|洪城|Nanchang", "江西省", "江西省省会", 0.6),
    ("kgp:taiyuan", "太原市", "太原|并州|Taiyuan", "山西省", "山西省省会", 0.55),
    ("kgp:xian", "西安市", "西安|长安|Xi'an|Xian", "陕西省", "陕西省省会，十三朝古都，兵马俑所在地", 0.85),
    ("kgp:shenyang", "沈阳市", "沈阳|盛京|Shenyang", "辽宁省", "辽宁省省会，东北工业重镇", 0.65),
    ("kgp:dalian", "大连市", "大连|Dalian", "辽宁省", "辽宁省副省级市，海滨港口城市", 0.65),
    ("kgp:changchun", "长春市", "长春|春城|Changchun", "吉林省", "吉林省省会，汽车城，电影城", 0.65),
    ("kgp:harbin", "哈尔滨市", "哈尔滨|冰城|Harbin", "黑龙江省", "黑龙江省省会，冰雪之城", 0.65),
    ("kgp:kunming", "昆明市", "昆明|春城昆明|Kunming", "云南省", "云南省省会，四季如春", 0.65),
    ("kgp:guiyang", "贵阳市", "贵阳|筑|Guiyang", "贵州省", "贵州省省会，大数据中心", 0.55),
    ("kgp:lanzhou", "兰州市", "兰州|金城|Lanzhou", "甘肃省", "甘肃省省会，黄河穿城而过", 0.55),
    ("kgp:xining", "西宁市", "西宁|Xining", "青海省", "青海省省会", 0.45),
    ("kgp:haikou", "海口市", "海口|椰城|Haikou", "海南省", "海南省省会", 0.5),
    ("kgp:sanya", "三亚市", "三亚|Sanya", "海南省", "海南省地级市，热带滨海旅游城市", 0.55),
    ("kgp:nanning", "南宁市", "南宁|绿城|Nanning", "广西壮族自治区", "广西壮族自治区首府", 0.55),
    ("kgp:guilin", "桂林市", "桂林|Guilin", "广西壮族自治区", "广西地级市，山水甲天下", 0.55),
    ("kgp:hohhot", "呼和浩特市", "呼和浩特|青城|Hohhot", "内蒙古自治区", "内蒙古自治区首府", 0.5),
    ("kgp:urumqi", "乌鲁木齐市", "乌鲁木齐|Urumqi", "新疆维吾尔自治区", "新疆维吾尔自治区首府", 0.55),
    ("kgp:lhasa", "拉萨市", "拉萨|日光城|Lhasa", "西藏自治区", "西藏自治区首府，布达拉宫所在地", 0.55),
    ("kgp:yinchuan", "银川市", "银川|Yinchuan", "宁夏回族自治区", "宁夏回族自治区首府", 0.45),
    ("kgp:taipei", "台北市", "台北|Taipei|臺北", "台湾省", "台湾地区最大城市", 0.65),
    ("kgp:kaohsiung", "高雄市", "高雄|Kaohsiung", "台湾省", "台湾地区南部港口城市", 0.5),
]

# Same-name districts in different cities: (id, name, city, description, prior).
DISTRICTS = [
    ("kgp:chaoyang-beijing", "朝阳区", "北京市", "北京市市辖区，位于城区东部，CBD和使馆区所在地", 0.7),
    ("kgp:chaoyang-changchun", "朝阳区", "长春市", "吉林省长春市市辖区，位于市中心西南部", 0.3),
    ("kgp:gulou-nanjing", "鼓楼区", "南京市", "江苏省南京市市辖区，南京大学所在地", 0.35),
    ("kgp:gulou-fuzhou", "鼓楼区", "福州市", "福建省福州市市辖区，福建省政府所在地", 0.3),
    ("kgp:gulou-xuzhou", "鼓楼区", "徐州市", "江苏省徐州市市辖区", 0.15),
    ("kgp:gulou-kaifeng", "鼓楼区", "开封市", "河南省开封市市辖区", 0.15),
    ("kgp:xihu-hangzhou", "西湖区", "杭州市", "浙江省杭州市市辖区，西湖风景区所在地", 0.7),
    ("kgp:xihu-nanchang", "西湖区", "南昌市", "江西省南昌市市辖区", 0.3),
    ("kgp:heping-tianjin", "和平区", "天津市", "天津市市辖区，市中心商业区", 0.5),
    ("kgp:heping-shenyang", "和平区", "沈阳市", "辽宁省沈阳市市辖区", 0.5),
    ("kgp:putuo-shanghai", "普陀区", "上海市", "上海市市辖区，位于中心城区西北部", 0.6),
    ("kgp:putuo-zhoushan", "普陀区", "舟山市", "浙江省舟山市市辖区，普陀山所在地", 0.4),
    ("kgp:jiangbei-chongqing", "江北区", "重庆市", "重庆市市辖区，位于长江和嘉陵江北岸", 0.6),
    ("kgp:jiangbei-ningbo", "江北区", "宁波市", "浙江省宁波市市辖区", 0.4),
    ("kgp:baiyun-guangzhou", "白云区", "广州市", "广东省广州市市辖区，白云山和白云机场所在地", 0.65),
    ("kgp:baiyun-guiyang", "白云区", "贵阳市", "贵州省贵阳市市辖区", 0.35),
    ("kgp:changan-xian", "长安区", "西安市", "陕西省西安市市辖区", 0.55),
    ("kgp:changan-shijiazhuang", "长安区", "石家庄市", "河北省石家庄市市辖区", 0.45),
    ("kgp:chengguan-lanzhou", "城关区", "兰州市", "甘肃省兰州市市辖区", 0.5),
    ("kgp:chengguan-lhasa", "城关区", "拉萨市", "西藏自治区拉萨市市辖区，布达拉宫所在地", 0.5),
    ("kgp:haidian-beijing", "海淀区", "北京市", "北京市市辖区，高校和科技企业聚集，中关村所在地", 0.75),
    ("kgp:xicheng-beijing", "西城区", "北京市", "北京市市辖区，中央机关所在地", 0.65),
    ("kgp:dongcheng-beijing", "东城区", "北京市", "北京市市辖区，故宫和天安门所在地", 0.65),
    ("kgp:pudong-shanghai", "浦东新区", "上海市", "上海市市辖区，陆家嘴金融区所在地", 0.75),
    ("kgp:huangpu-shanghai", "黄浦区", "上海市", "上海市市辖区，外滩和南京路所在地", 0.6),
    ("kgp:xuhui-shanghai", "徐汇区", "上海市", "上海市市辖区", 0.5),
    ("kgp:tianhe-guangzhou", "天河区", "广州市", "广东省广州市市辖区，珠江新城所在地", 0.6),
    ("kgp:nanshan-shenzhen", "南山区", "深圳市", "广东省深圳市市辖区，腾讯等科技企业总部聚集", 0.65),
    ("kgp:futian-shenzhen", "福田区", "深圳市", "广东省深圳市市辖区，市政府所在地", 0.6),
    ("kgp:longgang-shenzhen", "龙岗区", "深圳市", "广东省深圳市市辖区，华为总部所在地", 0.55),
    ("kgp:yuhang-hangzhou", "余杭区", "杭州市", "浙江省杭州市市辖区，阿里巴巴总部所在地", 0.55),
    ("kgp:binhai-tianjin", "滨海新区", "天津市", "天津市市辖区，国家级新区", 0.55),
    ("kgp:wuhou-chengdu", "武侯区", "成都市", "四川省成都市市辖区，武侯祠所在地", 0.5),
    ("kgp:xuanwu-nanjing", "玄武区", "南京市", "江苏省南京市市辖区，中山陵所在地", 0.5),
]

# Short names used on their own in news text (not generated: 朝阳 alone is also a city and a word).
DISTRICT_EXTRA_ALIASES = {
    "kgp:pudong-shanghai": ["浦东", "Pudong"], "kgp:haidian-beijing": ["海淀"],
    "kgp:xicheng-beijing": ["西城"], "kgp:dongcheng-beijing": ["东城"], "kgp:xuhui-shanghai": ["徐汇"],
    "kgp:tianhe-guangzhou": ["天河"], "kgp:futian-shenzhen": ["福田"], "kgp:yuhang-hangzhou": ["余杭"],
    "kgp:binhai-tianjin": ["天津滨海新区"], "kgp:longgang-shenzhen": ["龙岗"],
}

# (id, name, aliases, country, description, prior)
WORLD_CITIES = [
    ("Q1490", "东京", "东京都|Tokyo|東京", "日本", "日本首都，世界最大都市圈之一", 0.9),
    ("kgp:osaka", "大阪", "大阪市|Osaka", "日本", "日本第二大都市圈的中心城市", 0.7),
    ("kgp:kyoto", "京都", "京都市|Kyoto", "日本", "日本古都，寺庙众多", 0.65),
    ("kgp:seoul", "首尔", "首尔特别市|Seoul|汉城", "韩国", "韩国首都", 0.8),
    ("kgp:busan", "釜山", "Busan|Pusan", "韩国", "韩国第二大城市，港口城市", 0.6),
    ("kgp:pyongyang", "平壤", "Pyongyang", "朝鲜", "朝鲜首都", 0.6),
    ("kgp:bangkok", "曼谷", "Bangkok", "泰国", "泰国首都", 0.7),
    ("kgp:hanoi", "河内", "Hanoi|Ha Noi", "越南", "越南首都", 0.6),
    ("kgp:hcmc", "胡志明市", "西贡|Ho Chi Minh City|Saigon", "越南", "越南最大城市", 0.6),
    ("kgp:kuala-lumpur", "吉隆坡", "Kuala Lumpur", "马来西亚", "马来西亚首都", 0.65),
    ("kgp:jakarta", "雅加达", "Jakarta", "印度尼西亚", "印度尼西亚首都", 0.65),
    ("kgp:manila", "马尼拉", "Manila", "菲律宾", "菲律宾首都", 0.6),
    ("kgp:new-delhi", "新德里", "New Delhi|德里", "印度", "印度首都", 0.7),
    ("kgp:mumbai", "孟买", "Mumbai|Bombay", "印度", "印度最大城市和金融中心", 0.65),
    ("kgp:dubai", "迪拜", "Dubai", "阿联酋", "阿联酋最大城市，中东商业中心", 0.7),
    ("kgp:riyadh", "利雅得", "Riyadh", "沙特阿拉伯", "沙特阿拉伯首都", 0.55),
    ("kgp:tehran", "德黑兰", "Tehran", "伊朗", "伊朗首都", 0.55),
    ("kgp:istanbul", "伊斯坦布尔", "Istanbul", "土耳其", "土耳其最大城市，横跨欧亚", 0.7),
    ("kgp:cairo", "开罗", "Cairo", "埃及", "埃及首都，非洲最大城市之一", 0.65),
    ("Q649", "莫斯科", "Moscow|Москва", "俄罗斯", "俄罗斯首都", 0.85),
    ("kgp:st-petersburg", "圣彼得堡", "Saint Petersburg|St. Petersburg|列宁格勒", "俄罗斯", "俄罗斯第二大城市", 0.6),
    ("Q84", "伦敦", "London|倫敦", "英国", "英国首都，国际金融中心", 0.9),
    ("Q90", "巴黎", "Paris", "法国", "法国首都，时尚与艺术之都", 0.9),
    ("Q64", "柏林", "Berlin", "德国", "德国首都", 0.8),
    ("kgp:munich", "慕尼黑", "München|Munich", "德国", "德国巴伐利亚州首府，宝马总部所在地", 0.65),
    ("kgp:frankfurt", "法兰克福", "Frankfurt", "德国", "德国金融中心，欧洲央行所在地", 0.6),
    ("kgp:rome", "罗马", "Rome|Roma", "意大利", "意大利首都，历史名城", 0.8),
    ("kgp:milan", "米兰", "Milan|Milano", "意大利", "意大利经济中心，时装之都", 0.65),
    ("kgp:madrid", "马德里", "Madrid", "西班牙", "西班牙首都", 0.7),
    ("kgp:barcelona", "巴塞罗那", "Barcelona|巴萨罗那", "西班牙", "西班牙第二大城市，加泰罗尼亚首府", 0.65),
    ("kgp:amsterdam", "阿姆斯特丹", "Amsterdam", "荷兰", "荷兰首都", 0.65),
    ("kgp:brussels", "布鲁塞尔", "Brussels|Bruxelles", "比利时", "比利时首都，欧盟总部所在地", 0.65),
    ("kgp:vienna", "维也纳", "Vienna|Wien", "奥地利", "奥地利首都，音乐之都", 0.65),
    ("kgp:geneva", "日内瓦", "Geneva|Genève", "瑞士", "瑞士城市，众多国际组织所在地", 0.6),
    ("kgp:zurich", "苏黎世", "Zürich|Zurich", "瑞士", "瑞士最大城市，金融中心", 0.6),
    ("kgp:stockholm", "斯德哥尔摩", "Stockholm", "瑞典", "瑞典首都", 0.55),
    ("kgp:kyiv", "基辅", "Kyiv|Kiev", "乌克兰", "乌克兰首都", 0.6),
    ("Q60", "纽约", "纽约市|New York|New York City|NYC", "美国", "美国最大城市，联合国总部所在地", 0.9),
    ("kgp:washington-dc", "华盛顿", "华盛顿哥伦比亚特区|Washington, D.C.|Washington DC", "美国", "美国首都", 0.8),
    ("kgp:los-angeles", "洛杉矶", "Los Angeles|LA", "美国", "美国西海岸最大城市，好莱坞所在地", 0.8),
    ("kgp:san-francisco", "旧金山", "三藩市|San Francisco", "美国", "美国加州城市，毗邻硅谷", 0.75),
    ("kgp:seattle", "西雅图", "Seattle", "美国", "美国西北部城市，微软和亚马逊总部附近", 0.65),
    ("kgp:chicago", "芝加哥", "Chicago", "美国", "美国第三大城市", 0.65),
    ("kgp:boston", "波士顿", "Boston", "美国", "美国马萨诸塞州首府，哈佛大学附近", 0.6),
    ("kgp:cupertino", "库比蒂诺", "Cupertino", "美国", "美国加州城市，苹果公司总部所在地", 0.4),
    ("kgp:toronto", "多伦多", "Toronto", "加拿大", "加拿大最大城市", 0.65),
    ("kgp:vancouver", "温哥华", "Vancouver", "加拿大", "加拿大西海岸城市", 0.6),
    ("kgp:ottawa", "渥太华", "Ottawa", "加拿大", "加拿大首都", 0.5),
    ("kgp:sydney", "悉尼", "Sydney|雪梨", "澳大利亚", "澳大利亚最大城市，悉尼歌剧院所在地", 0.7),
    ("kgp:melbourne", "墨尔本", "Melbourne", "澳大利亚", "澳大利亚第二大城市", 0.6),
    ("kgp:sao-paulo", "圣保罗", "São Paulo|Sao Paulo", "巴西", "巴西最大城市", 0.55),
    ("kgp:rio", "里约热内卢", "里约|Rio de Janeiro", "巴西", "巴西著名海滨城市", 0.55),
    ("kgp:mexico-city", "墨西哥城", "Mexico City|Ciudad de México", "墨西哥", "墨西哥首都", 0.55),
    ("kgp:buenos-aires", "布宜诺斯艾利斯", "Buenos Aires", "阿根廷", "阿根廷首都", 0.5),
]

# Natural features and landmarks, some sharing a name with companies.
LANDMARKS = [
    ("kgp:great-wall", "长城", "万里长城|Great Wall|Great Wall of China|長城", ["Place"], "中国古代的军事防御工程，世界文化遗产，横跨北方多个省份", 0.8, {"所在国家": ["中国"]}),
    ("kgp:amazon-river", "亚马逊河", "亚马孙河|Amazon River|亚马逊", ["Place"], "南美洲的大河，流经巴西，世界流量最大的河流，流域有热带雨林", 0.5, {"所在国家": ["巴西"]}),
    ("kgp:yangtze", "长江", "扬子江|Yangtze River|Yangtze", ["Place"], "中国第一长河，流经青海、四川、重庆、湖北、江西、安徽、江苏、上海等地入海", 0.8, {"所在国家": ["中国"]}),
    ("kgp:yellow-river", "黄河", "Yellow River", ["Place"], "中国第二长河，中华文明的母亲河", 0.75, {"所在国家": ["中国"]}),
    ("kgp:west-lake", "西湖", "杭州西湖|West Lake", ["Place"], "浙江省杭州市的淡水湖，著名风景区和世界文化遗产", 0.65, {"所在城市": ["杭州市"]}),
    ("kgp:forbidden-city", "故宫", "紫禁城|故宫博物院|Forbidden City", ["Place"], "北京明清两代皇宫，现为博物院", 0.7, {"所在城市": ["北京市"]}),
    ("kgp:mount-everest", "珠穆朗玛峰", "珠峰|Mount Everest|Qomolangma", ["Place"], "世界最高峰，位于中国与尼泊尔边境", 0.65, {}),
    ("kgp:zhongguancun", "中关村", "Zhongguancun", ["Place"], "北京市海淀区的科技园区，被称为中国硅谷", 0.6, {"所在城市": ["北京市"]}),
    ("kgp:silicon-valley", "硅谷", "Silicon Valley", ["Place"], "美国加州旧金山湾区南部的科技产业聚集地", 0.65, {"所在国家": ["美国"]}),
    ("kgp:lujiazui", "陆家嘴", "Lujiazui", ["Place"], "上海市浦东新区的金融贸易区", 0.5, {"所在城市": ["上海市"]}),
]


def _split(aliases: str) -> list[str]:
    return [a for a in aliases.split("|") if a]


def records() -> list[dict]:
    """The place records of the default KB."""
    out = []
    for qid, name, aliases, description, prior in COUNTRIES:
        out.append(dict(id=qid, name=name, aliases=_split(aliases), types=["Country"],
                        description=description, prior=prior))
    for qid, name, aliases, types, description, prior in REGIONS:
        out.append(dict(id=qid, name=name, aliases=_split(aliases), types=types,
                        description=description, prior=prior))
    for slug, name, short, english, capital, description, prior in PROVINCES:
        out.append(dict(id=f"kgp:{slug}", name=name, aliases=[*_split(short), english],
                        types=["Province"], description=description, prior=prior,
                        attributes={"省会": [capital], "所属国家": ["中国"]}))
    for qid, name, aliases, province, description, prior in CITIES:
        attributes = {"所属国家": ["中国"]}
        if province:
            attributes["所属省份"] = [province]
        out.append(dict(id=qid, name=name, aliases=_split(aliases), types=["City"],
                        description=description, prior=prior, attributes=attributes))
    for qid, name, city, description, prior in DISTRICTS:
        short_city = city[:-1] if city.endswith("市") else city
        aliases = [f"{short_city}{name}", f"{city}{name}", *DISTRICT_EXTRA_ALIASES.get(qid, [])]
        out.append(dict(id=qid, name=name, aliases=aliases,
                        types=["District"], description=description, prior=prior,
                        attributes={"所属城市": [city]}))
    for qid, name, aliases, country, description, prior in WORLD_CITIES:
        out.append(dict(id=qid, name=name, aliases=_split(aliases), types=["City"],
                        description=description, prior=prior, attributes={"所属国家": [country]}))
    for qid, name, aliases, types, description, prior, attributes in LANDMARKS:
        out.append(dict(id=qid, name=name, aliases=_split(aliases), types=types,
                        description=description, prior=prior, attributes=attributes))
    return out
