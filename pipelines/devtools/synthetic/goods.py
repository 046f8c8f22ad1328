"""The goods of the synthetic world: an HS catalogue with descriptions, units and prices.

Facts, not parameters: which goods are counterfeit-prone follows the customs seizure
statistics of Hong Kong and the EU (bags, watches, footwear, apparel, cosmetics, phone
accessories, toys, media, jewellery, eyewear). Prices are rough typical export unit
values in HKD; the world's spread around them is set in conf/base/synthetic.yaml.
"""
from __future__ import annotations

import pandas as pd

# hs6, group, unit (UN/ECE Rec. 20), typical unit value HKD, unit net weight kg,
# English descriptions ("|"-separated variants), Chinese description.
_CATALOGUE = [
    ("420221", "BAGS", "PCE", 180.0, 0.8, "LEATHER HANDBAG|LADIES HANDBAG|HANDBAGS, LEATHER", "真皮手袋"),
    ("420222", "BAGS", "PCE", 60.0, 0.5, "TEXTILE HANDBAG|CANVAS TOTE BAG", "布手袋"),
    ("420231", "BAGS", "PCE", 45.0, 0.15, "LEATHER WALLET|CARD HOLDER", "真皮錢包"),
    ("420292", "BAGS", "PCE", 80.0, 0.9, "BACKPACK|TRAVEL BAG|SPORTS BAG", "背包"),
    ("910211", "WATCHES", "PCE", 350.0, 0.12, "WRIST WATCH|MECHANICAL WATCH", "手錶"),
    ("910219", "WATCHES", "PCE", 90.0, 0.1, "QUARTZ WATCH|FASHION WATCH", "石英錶"),
    ("640399", "FOOTWEAR", "PR", 150.0, 0.9, "LEATHER SHOES|MEN'S SHOES", "皮鞋"),
    ("640411", "FOOTWEAR", "PR", 110.0, 0.8, "SPORTS SHOES|SNEAKERS|RUNNING SHOES", "運動鞋"),
    ("610910", "APPAREL", "PCE", 25.0, 0.2, "COTTON T-SHIRT|T-SHIRTS", "棉質T恤"),
    ("611020", "APPAREL", "PCE", 70.0, 0.45, "KNITTED SWEATER|PULLOVER", "毛衣"),
    ("620342", "APPAREL", "PCE", 60.0, 0.5, "MEN'S TROUSERS|JEANS", "男裝長褲"),
    ("620462", "APPAREL", "PCE", 65.0, 0.45, "WOMEN'S TROUSERS|LADIES JEANS", "女裝長褲"),
    ("330300", "COSMETICS", "PCE", 60.0, 0.2, "PERFUME|EAU DE TOILETTE", "香水"),
    ("330499", "COSMETICS", "PCE", 40.0, 0.1, "COSMETICS|SKIN CARE CREAM|LIPSTICK", "化妝品"),
    ("851830", "PHONE_ACC", "PCE", 55.0, 0.08, "EARPHONES|WIRELESS HEADSET", "耳機"),
    ("851770", "PHONE_ACC", "PCE", 20.0, 0.05, "MOBILE PHONE PARTS|PHONE ACCESSORIES", "手機配件"),
    ("850440", "PHONE_ACC", "PCE", 30.0, 0.12, "POWER ADAPTER|USB CHARGER", "充電器"),
    ("950300", "TOYS", "PCE", 35.0, 0.3, "PLASTIC TOYS|DOLLS|ACTION FIGURES", "玩具"),
    ("950450", "TOYS", "PCE", 400.0, 1.2, "VIDEO GAME CONSOLE|GAME CONTROLLER", "遊戲機"),
    ("852349", "MEDIA", "PCE", 15.0, 0.1, "DVD DISCS|OPTICAL MEDIA", "光碟"),
    ("852351", "MEDIA", "PCE", 25.0, 0.02, "MEMORY CARD|USB FLASH DRIVE", "記憶卡"),
    ("711719", "JEWELLERY", "PCE", 20.0, 0.03, "IMITATION JEWELLERY|FASHION NECKLACE", "仿首飾"),
    ("711319", "JEWELLERY", "PCE", 1500.0, 0.02, "GOLD JEWELLERY|GOLD RING", "金首飾"),
    ("900410", "EYEWEAR", "PCE", 45.0, 0.05, "SUNGLASSES", "太陽眼鏡"),
    ("900490", "EYEWEAR", "PCE", 30.0, 0.04, "SPECTACLES|READING GLASSES", "眼鏡"),
    ("940360", "GENERAL", "PCE", 400.0, 15.0, "WOODEN FURNITURE|CABINET", "木傢俬"),
    ("940161", "GENERAL", "PCE", 250.0, 8.0, "UPHOLSTERED CHAIR|SOFA CHAIR", "軟墊椅"),
    ("392690", "GENERAL", "PCE", 8.0, 0.1, "PLASTIC ARTICLES|PLASTIC PARTS", "塑膠製品"),
    ("392410", "GENERAL", "SET", 30.0, 0.8, "PLASTIC TABLEWARE|KITCHEN CONTAINERS", "塑膠餐具"),
    ("732393", "GENERAL", "PCE", 40.0, 0.6, "STAINLESS STEEL KITCHENWARE", "不銹鋼廚具"),
    ("761510", "GENERAL", "PCE", 35.0, 0.5, "ALUMINIUM COOKWARE", "鋁製炊具"),
    ("940540", "GENERAL", "PCE", 90.0, 1.0, "LED LAMPS|LIGHTING FITTINGS", "LED燈具"),
    ("871200", "GENERAL", "PCE", 600.0, 14.0, "BICYCLES", "單車"),
    ("482010", "GENERAL", "PCE", 6.0, 0.2, "NOTEBOOKS|DIARIES", "筆記簿"),
    ("630260", "GENERAL", "PCE", 15.0, 0.4, "COTTON TOWELS", "毛巾"),
    ("691200", "GENERAL", "SET", 50.0, 2.0, "CERAMIC TABLEWARE", "陶瓷餐具"),
    ("401110", "GENERAL", "PCE", 300.0, 9.0, "CAR TYRES", "汽車輪胎"),
    ("841510", "GENERAL", "PCE", 1800.0, 35.0, "AIR CONDITIONERS", "冷氣機"),
    ("850980", "GENERAL", "PCE", 150.0, 2.5, "ELECTRIC KITCHEN APPLIANCES", "家用電器"),
    ("847130", "GENERAL", "PCE", 2500.0, 1.8, "LAPTOP COMPUTERS", "手提電腦"),
    ("854143", "GENERAL", "PCE", 700.0, 20.0, "SOLAR PANELS|PHOTOVOLTAIC MODULES", "太陽能板"),
    ("090230", "GENERAL", "KGM", 120.0, 1.0, "BLACK TEA", "紅茶"),
    ("960390", "GENERAL", "PCE", 5.0, 0.05, "BRUSHES", "刷"),
    ("670411", "GENERAL", "PCE", 120.0, 0.3, "SYNTHETIC WIGS", "假髮"),
    ("830140", "GENERAL", "PCE", 25.0, 0.3, "PADLOCKS|LOCKS", "鎖"),
    ("846721", "GENERAL", "PCE", 220.0, 2.0, "ELECTRIC DRILLS|POWER TOOLS", "電鑽"),
    ("850650", "GENERAL", "PCE", 6.0, 0.02, "LITHIUM BATTERIES", "鋰電池"),
    ("852852", "GENERAL", "PCE", 900.0, 5.0, "COMPUTER MONITORS", "電腦顯示器"),
    ("611610", "GENERAL", "PR", 4.0, 0.05, "WORK GLOVES", "工作手套"),
]

# Vague descriptions: used by some honest shippers, far more often to hide what a box holds.
VAGUE_DESCRIPTIONS = ["GIFT", "SAMPLE", "ACCESSORIES", "GENERAL MERCHANDISE", "PERSONAL EFFECTS", "禮品", "樣品"]

# Brand-looking words that are not recorded trademarks: decoys for naive brand matching.
UNRECORDED_BRANDS = ["NO BRAND", "OEM", "GENERIC", "UNBRANDED", "STARLINE", "HOMEBEST", "FASHION"]

PRONE_GROUPS = ["BAGS", "WATCHES", "FOOTWEAR", "APPAREL", "COSMETICS", "PHONE_ACC", "TOYS", "MEDIA", "JEWELLERY", "EYEWEAR"]

# Which kind of right a seizure of each group infringes most often.
INFRINGEMENT_BY_GROUP = {"MEDIA": "COPYRIGHT", "TOYS": "DESIGN", "PHONE_ACC": "TRADEMARK"}


def hs_catalogue() -> pd.DataFrame:
    """One row per HS subheading, with an integer index used by the vectorised simulation."""
    frame = pd.DataFrame(_CATALOGUE, columns=["hs6", "group", "unit", "unit_value_hkd", "unit_kg", "desc_en", "desc_zh"])
    frame["chapter"] = frame["hs6"].str[:2]
    frame["prone"] = frame["group"].isin(PRONE_GROUPS)
    return frame
