//! Unit tests of [`super`]: how texts and queries are cut into grams.

use super::*;

#[test]
fn grams_cover_chinese_phones_and_pinyin() {
    let g = grams("张三贸易 13800138000 zhangsanmaoyi zsmy");
    for want in ["张", "张三", "贸易", "138", "000", "zs", "sm", "my"] {
        assert!(g.contains(want), "{want} missing");
    }
    for not in ["00", "zsm"] {
        assert!(!g.contains(not), "{not} is not indexed");
    }
    assert_eq!(
        query_grams("张").unwrap().into_iter().collect::<Vec<_>>(),
        ["张"]
    );
    assert_eq!(
        query_grams("张三").unwrap().into_iter().collect::<Vec<_>>(),
        ["张三"]
    );
    assert!(query_grams("z").is_none());
    assert!(query_grams("80").is_none(), "two digits: the scan answers");
    assert_eq!(
        query_grams("zsm").unwrap().into_iter().collect::<Vec<_>>(),
        ["sm", "zs"]
    );
    assert_eq!(
        query_grams("zs").unwrap().into_iter().collect::<Vec<_>>(),
        ["zs"]
    );
    assert!(query_grams("8000").unwrap().contains("800"));
    let text = "张三贸易 张三 13800138000 ZSmy";
    let doc: Vec<String> = document(text).split(' ').map(str::to_owned).collect();
    assert_eq!(doc, grams(text).into_iter().collect::<Vec<_>>());
    assert_eq!(document("- "), "");
}
