"""Cities of the demo warehouse: English value, Chinese name, region, tier, weight.

The English name is what `customers.city` stores; the Chinese name is for the
catalog's synonyms (上海 → Shanghai). `weight` is the city's relative share of
customers, so the East region (华东) comes out largest and Tier 1 cities are the
biggest single cities. Regions follow the seven traditional Chinese regions
(华东 East, 华北 North, 华南 South, 华中 Central, 西南 Southwest, 西北 Northwest,
东北 Northeast); tiers follow the common 一线/二线/三线 city grading.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS: tuple[str, ...] = (
    "East",
    "North",
    "South",
    "Central",
    "Southwest",
    "Northwest",
    "Northeast",
)
TIERS: tuple[str, ...] = ("Tier 1", "Tier 2", "Tier 3")


@dataclass(frozen=True)
class City:
    """One row of the city table."""

    name: str
    name_zh: str
    region: str
    city_tier: str
    weight: float


_T1, _T2, _T3 = TIERS

# fmt: off
CITIES: tuple[City, ...] = (
    # East 华东 (Shanghai, Jiangsu, Zhejiang, Anhui, Fujian, Jiangxi, Shandong)
    City("Shanghai", "上海", "East", _T1, 9.0),
    City("Hangzhou", "杭州", "East", _T2, 5.0),
    City("Nanjing", "南京", "East", _T2, 4.0),
    City("Suzhou", "苏州", "East", _T2, 4.0),
    City("Ningbo", "宁波", "East", _T2, 2.5),
    City("Wuxi", "无锡", "East", _T2, 2.0),
    City("Hefei", "合肥", "East", _T2, 2.5),
    City("Jinan", "济南", "East", _T2, 2.0),
    City("Qingdao", "青岛", "East", _T2, 2.5),
    City("Fuzhou", "福州", "East", _T2, 2.0),
    City("Xiamen", "厦门", "East", _T2, 2.0),
    City("Nanchang", "南昌", "East", _T2, 1.5),
    City("Wenzhou", "温州", "East", _T3, 1.5),
    City("Xuzhou", "徐州", "East", _T3, 1.2),
    City("Yangzhou", "扬州", "East", _T3, 0.8),
    City("Weifang", "潍坊", "East", _T3, 0.8),
    # North 华北 (Beijing, Tianjin, Hebei, Shanxi, Inner Mongolia)
    City("Beijing", "北京", "North", _T1, 8.0),
    City("Tianjin", "天津", "North", _T2, 3.0),
    City("Shijiazhuang", "石家庄", "North", _T2, 1.5),
    City("Taiyuan", "太原", "North", _T2, 1.2),
    City("Baoding", "保定", "North", _T3, 0.8),
    City("Hohhot", "呼和浩特", "North", _T3, 0.6),
    # South 华南 (Guangdong, Guangxi, Hainan)
    City("Guangzhou", "广州", "South", _T1, 7.0),
    City("Shenzhen", "深圳", "South", _T1, 7.0),
    City("Dongguan", "东莞", "South", _T2, 2.0),
    City("Foshan", "佛山", "South", _T2, 2.0),
    City("Nanning", "南宁", "South", _T2, 1.2),
    City("Zhuhai", "珠海", "South", _T3, 0.8),
    City("Haikou", "海口", "South", _T3, 0.7),
    # Central 华中 (Henan, Hubei, Hunan)
    City("Wuhan", "武汉", "Central", _T2, 4.0),
    City("Changsha", "长沙", "Central", _T2, 3.0),
    City("Zhengzhou", "郑州", "Central", _T2, 3.0),
    City("Luoyang", "洛阳", "Central", _T3, 0.8),
    City("Yichang", "宜昌", "Central", _T3, 0.6),
    # Southwest 西南 (Chongqing, Sichuan, Guizhou, Yunnan)
    City("Chengdu", "成都", "Southwest", _T2, 5.0),
    City("Chongqing", "重庆", "Southwest", _T2, 4.5),
    City("Kunming", "昆明", "Southwest", _T2, 2.0),
    City("Guiyang", "贵阳", "Southwest", _T2, 1.5),
    City("Mianyang", "绵阳", "Southwest", _T3, 0.6),
    City("Zunyi", "遵义", "Southwest", _T3, 0.6),
    # Northwest 西北 (Shaanxi, Gansu, Qinghai, Ningxia, Xinjiang)
    City("Xi'an", "西安", "Northwest", _T2, 3.0),
    City("Lanzhou", "兰州", "Northwest", _T3, 1.0),
    City("Urumqi", "乌鲁木齐", "Northwest", _T3, 1.0),
    City("Yinchuan", "银川", "Northwest", _T3, 0.6),
    City("Xining", "西宁", "Northwest", _T3, 0.4),
    # Northeast 东北 (Liaoning, Jilin, Heilongjiang)
    City("Shenyang", "沈阳", "Northeast", _T2, 2.5),
    City("Dalian", "大连", "Northeast", _T2, 2.0),
    City("Harbin", "哈尔滨", "Northeast", _T2, 2.2),
    City("Changchun", "长春", "Northeast", _T2, 2.0),
    City("Daqing", "大庆", "Northeast", _T3, 0.5),
    City("Anshan", "鞍山", "Northeast", _T3, 0.5),
)
# fmt: on
