//! Word lists for realistic Chinese demo data: cities with their region and area codes, the
//! parts of company names, people's names, job titles and streets.

/// A sales territory: the demo's sales departments each cover some cities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Territory {
    Shanghai,
    Hangzhou,
    South,
    North,
}

/// (name prefix, first four digits of the city's GB/T 2260 code, telephone area code, territory).
pub const CITIES: &[(&str, &str, &str, Territory)] = &[
    ("上海", "3101", "021", Territory::Shanghai),
    ("苏州", "3205", "0512", Territory::Shanghai),
    ("南京", "3201", "025", Territory::Shanghai),
    ("无锡", "3202", "0510", Territory::Shanghai),
    ("常州", "3204", "0519", Territory::Shanghai),
    ("南通", "3206", "0513", Territory::Shanghai),
    ("杭州", "3301", "0571", Territory::Hangzhou),
    ("宁波", "3302", "0574", Territory::Hangzhou),
    ("温州", "3303", "0577", Territory::Hangzhou),
    ("嘉兴", "3304", "0573", Territory::Hangzhou),
    ("湖州", "3305", "0572", Territory::Hangzhou),
    ("绍兴", "3306", "0575", Territory::Hangzhou),
    ("金华", "3307", "0579", Territory::Hangzhou),
    ("台州", "3310", "0576", Territory::Hangzhou),
    ("合肥", "3401", "0551", Territory::Hangzhou),
    ("广州", "4401", "020", Territory::South),
    ("深圳", "4403", "0755", Territory::South),
    ("佛山", "4406", "0757", Territory::South),
    ("东莞", "4419", "0769", Territory::South),
    ("珠海", "4404", "0756", Territory::South),
    ("中山", "4420", "0760", Territory::South),
    ("厦门", "3502", "0592", Territory::South),
    ("福州", "3501", "0591", Territory::South),
    ("泉州", "3505", "0595", Territory::South),
    ("南宁", "4501", "0771", Territory::South),
    ("北京", "1101", "010", Territory::North),
    ("天津", "1201", "022", Territory::North),
    ("石家庄", "1301", "0311", Territory::North),
    ("唐山", "1302", "0315", Territory::North),
    ("济南", "3701", "0531", Territory::North),
    ("青岛", "3702", "0532", Territory::North),
    ("太原", "1401", "0351", Territory::North),
    ("郑州", "4101", "0371", Territory::North),
    ("沈阳", "2101", "024", Territory::North),
    ("大连", "2102", "0411", Territory::North),
];

/// First characters of brand names (字号); disjoint from [`BRAND_SECOND`], so every pair differs.
pub const BRAND_FIRST: &[&str] = &[
    "恒", "华", "鑫", "博", "宏", "盛", "腾", "瑞", "嘉", "永", "金", "天", "中", "东", "新", "正",
    "海", "汇", "明", "光", "长", "万", "佳", "圣", "辉", "创", "凯", "俊", "宝", "锦", "联", "星",
    "合", "润", "晟", "昊", "峰", "睿", "立", "科", "百", "国", "大", "南", "北", "春", "云", "顺",
    "广", "蓝", "青", "绿", "美", "卓", "英", "世", "紫", "银", "宇", "精",
];

pub const BRAND_SECOND: &[&str] = &[
    "信", "达", "泰", "通", "利", "兴", "源", "德", "昌", "丰", "和", "安", "成", "业", "荣", "隆",
    "祥", "发", "鸿", "远", "康", "泽", "亿", "邦", "诚", "威", "奥", "易", "捷", "越", "迈", "聚",
    "鼎", "晖", "程", "航", "元", "方", "林", "川", "峻", "拓", "驰", "耀", "洋", "阳", "乐", "森",
    "茂", "坤", "胜", "宁", "豪", "赛", "维", "展", "冠", "健", "启", "富",
];

/// (industry word of a company name, the `industry` dictionary code it belongs to).
pub const INDUSTRY_WORDS: &[(&str, &str)] = &[
    ("机械", "manufacturing"),
    ("电子", "manufacturing"),
    ("精密制造", "manufacturing"),
    ("模具", "manufacturing"),
    ("五金制品", "manufacturing"),
    ("机电设备", "manufacturing"),
    ("塑胶", "manufacturing"),
    ("纺织", "manufacturing"),
    ("汽车零部件", "manufacturing"),
    ("包装材料", "manufacturing"),
    ("化工", "manufacturing"),
    ("新材料", "manufacturing"),
    ("贸易", "retail"),
    ("商贸", "retail"),
    ("百货", "retail"),
    ("电子商务", "retail"),
    ("食品", "retail"),
    ("日用品", "retail"),
    ("科技", "it"),
    ("信息技术", "it"),
    ("软件", "it"),
    ("网络科技", "it"),
    ("数据科技", "it"),
    ("智能科技", "it"),
    ("建设", "construction"),
    ("建筑工程", "construction"),
    ("装饰工程", "construction"),
    ("建材", "construction"),
    ("钢结构", "construction"),
    ("投资管理", "finance"),
    ("融资租赁", "finance"),
    ("资产管理", "finance"),
    ("教育科技", "education"),
    ("培训", "education"),
    ("文化传播", "education"),
    ("医疗器械", "healthcare"),
    ("生物科技", "healthcare"),
    ("医药", "healthcare"),
    ("健康管理", "healthcare"),
    ("物流", "logistics"),
    ("供应链管理", "logistics"),
    ("国际货运代理", "logistics"),
    ("运输", "logistics"),
    ("餐饮管理", "other"),
    ("环保科技", "other"),
    ("农业发展", "other"),
    ("广告", "other"),
    ("企业管理咨询", "other"),
];

/// Legal forms and how often they occur (weights).
pub const FORMS: &[(&str, u32)] = &[("有限公司", 80), ("股份有限公司", 8), ("有限责任公司", 12)];

/// Common surnames, most frequent first.
pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "段", "雷", "侯", "龙",
    "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "武", "戴", "莫", "孔",
];

pub const GIVEN_MALE: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "阳", "建华", "建国",
    "志强", "志明", "海涛", "俊杰", "文博", "浩然", "子轩", "宇航", "晓东", "国强", "家豪", "明辉",
    "永刚", "振华", "天宇", "鹏飞", "立新", "春生", "德明",
];

pub const GIVEN_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "婷", "雪", "慧", "颖", "琳", "晶", "欣",
    "倩", "洁", "蕾", "萍", "红", "燕", "丹", "秀英", "晓燕", "丽娟", "秀兰", "桂英", "雅琴",
    "美玲", "欣怡", "梓涵", "诗涵", "雨萱", "思琪", "海燕", "婉婷", "静怡", "春梅", "玉兰",
];

/// Job titles of customers' contacts, with weights.
pub const TITLES: &[(&str, u32)] = &[
    ("总经理", 10),
    ("副总经理", 6),
    ("董事长", 3),
    ("采购经理", 12),
    ("采购主管", 8),
    ("财务经理", 7),
    ("财务总监", 3),
    ("技术总监", 5),
    ("销售总监", 4),
    ("市场经理", 5),
    ("行政主管", 5),
    ("项目经理", 8),
    ("工程师", 8),
    ("办公室主任", 4),
    ("运营总监", 3),
    ("人事经理", 4),
];

pub const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "延安路",
    "和平路",
    "新华路",
    "长江路",
    "黄河路",
    "青年路",
    "科技路",
    "工业园路",
    "创业大道",
    "滨江大道",
    "高新大道",
    "学院路",
    "胜利路",
    "东风路",
    "文化路",
    "金融街",
    "环城北路",
    "迎宾大道",
    "湖滨路",
    "开发区大道",
];

/// Mobile number prefixes (1[3-9]x).
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];

pub const TAGS: &[&str] = &[
    "重点跟进",
    "老客户",
    "展会客户",
    "已签约",
    "价格敏感",
    "大客户",
    "渠道商",
];

pub const NOTES: &[&str] = &[
    "年度采购计划已提交，等待预算审批。",
    "对新产品线有兴趣，下月安排上门演示。",
    "老客户介绍，决策周期较长。",
    "需要提供资质文件和样品。",
    "已报价，客户在比较三家供应商。",
];

/// What a follow-up (跟进记录) says happened: (its `follow_up_type` code, the note with `{c}` for
/// the person spoken to, the `behaviour` code the note shows, if any). The type's share of
/// follow-ups is its share of lines here; most follow-ups are routine, about a third show a
/// behaviour.
pub const FOLLOW_UP_NOTES: &[(&str, &str, Option<&str>)] = &[
    ("call", "电话联系{c}，介绍今年的新产品", None),
    ("call", "致电{c}确认上月订单到货情况", None),
    ("call", "电话回访{c}，了解设备使用情况", None),
    ("call", "与{c}电话沟通下季度采购计划", None),
    ("call", "电话提醒{c}续签年度服务合同", None),
    ("call", "与{c}核对发票和付款进度", None),
    ("call", "多次拨打{c}的电话，均无人接听", Some("no_answer")),
    ("call", "{c}来电询问批量采购报价", Some("asked_quote")),
    ("call", "与{c}沟通年度预算，预算充足", Some("budget_ok")),
    ("visit", "上门拜访{c}，参观生产车间", None),
    ("visit", "拜访{c}，现场演示产品方案", None),
    ("visit", "陪同技术人员拜访{c}，调试设备", None),
    ("visit", "{c}来我司考察，参观了展厅", Some("visited")),
    ("visit", "现场处理售后，{c}投诉交货延期", Some("complained")),
    ("wechat", "微信发送产品资料给{c}", None),
    ("wechat", "通过微信与{c}确认技术参数", None),
    ("wechat", "微信向{c}发送节日问候", None),
    ("wechat", "{c}微信询问定制方案价格", Some("asked_quote")),
    ("wechat", "微信联系{c}，一直未回复", Some("no_answer")),
    ("email", "邮件发送报价单给{c}", None),
    ("email", "邮件发送资质文件给{c}", None),
    ("email", "{c}邮件反馈货物质量问题", Some("complained")),
    ("meeting", "与{c}召开项目启动会", None),
    ("meeting", "参加供应商评审会，{c}主持", None),
    ("meeting", "与{c}商讨二期项目，预算充足", Some("budget_ok")),
];

/// How a follow-up's note ends: the next step.
pub const FOLLOW_UP_NEXT: &[&str] = &[
    "下周再联系",
    "已发资料",
    "待对方答复",
    "需技术对接",
    "准备合同",
    "下月回访",
    "待确认需求",
    "转商务跟进",
    "希望降价",
    "安排样品测试",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_halves_are_disjoint_and_lists_have_no_repeats() {
        for f in BRAND_FIRST {
            assert!(!BRAND_SECOND.contains(f), "{f} in both halves");
        }
        let unique = |l: &[&str]| {
            let mut v = l.to_vec();
            v.sort_unstable();
            v.dedup();
            v.len() == l.len()
        };
        assert!(unique(BRAND_FIRST) && unique(BRAND_SECOND) && unique(SURNAMES));
        let words: Vec<&str> = INDUSTRY_WORDS.iter().map(|w| w.0).collect();
        assert!(unique(&words));
        let cities: Vec<&str> = CITIES.iter().map(|c| c.0).collect();
        assert!(unique(&cities));
    }
}
