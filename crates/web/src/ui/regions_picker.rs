//! The cascading region picker (地区选择) for any form: one `<select>` per level, all named after
//! the field, pre-filled on the server (so it works without JavaScript); `assets/app.js` loads the
//! next level from `/api/v1/regions?parent=CODE` when a level changes. The markup contract is
//! documented at the top of `templates/region_picker.html`.
//!
//! A page builds a [`RegionPicker`] with [`picker`] and includes the partial with `picker` and
//! `tr` in scope; the handler that receives the form reads the chosen code with [`submitted`].

use guanxi_store::regions::{self, MAX_LEVEL, Region};
use guanxi_store::{Db, StoreError};

use crate::error::AppResult;

/// The i18n keys of the levels' names, province first.
const LEVEL_KEYS: [&str; 3] = ["region-province", "region-city", "region-district"];

/// One drop-down: the regions of one level under the choice above it.
pub struct PickerLevel {
    /// 1 province, 2 city, 3 district.
    pub level: i32,
    /// The i18n key of the level's name (placeholder option and `aria-label`).
    pub label_key: &'static str,
    /// (code, name) of each option, in order.
    pub options: Vec<(String, String)>,
    /// The chosen code at this level, or "".
    pub selected: String,
}

impl PickerLevel {
    pub fn is_selected(&self, code: &str) -> bool {
        !self.selected.is_empty() && self.selected == code
    }
}

/// What `templates/region_picker.html` renders.
pub struct RegionPicker {
    /// The form field's name; every level's `<select>` carries it.
    pub name: String,
    /// The current code, or "".
    pub value: String,
    /// The current region as "浙江省 / 杭州市 / 西湖区", or "".
    pub label: String,
    /// Provinces first; a level appears once the one above has a choice with sub-regions.
    pub levels: Vec<PickerLevel>,
    /// Whether a choice is required (the province drop-down gets `required`).
    pub required: bool,
    /// A current value that is not a region (for example free text kept from before),
    /// offered as the first, selected option so that saving the form does not lose it.
    pub unknown: Option<String>,
}

impl RegionPicker {
    pub fn required(mut self, required: bool) -> RegionPicker {
        self.required = required;
        self
    }
}

/// Builds the picker for the field `name` with the current value `current` (a region code).
pub async fn picker(db: &Db, name: &str, current: Option<&str>) -> AppResult<RegionPicker> {
    let current = current.map(str::trim).filter(|c| !c.is_empty());
    let path: Vec<Region> = match current {
        Some(code) => match regions::path(db, code).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        },
        None => vec![],
    };
    let mut levels = vec![];
    let mut parent: Option<&str> = None;
    for (depth, key) in LEVEL_KEYS.iter().enumerate().take(MAX_LEVEL as usize) {
        let options = regions::children(db, parent).await?;
        if options.is_empty() {
            break;
        }
        let chosen = path.get(depth);
        levels.push(PickerLevel {
            level: depth as i32 + 1,
            label_key: key,
            options: options.into_iter().map(|r| (r.code, r.name)).collect(),
            selected: chosen.map(|r| r.code.clone()).unwrap_or_default(),
        });
        match chosen {
            Some(r) => parent = Some(&r.code),
            None => break,
        }
    }
    Ok(RegionPicker {
        name: name.to_owned(),
        value: path.last().map(|r| r.code.clone()).unwrap_or_default(),
        label: regions::label(&path),
        levels,
        required: false,
        unknown: if path.is_empty() {
            current.map(str::to_owned)
        } else {
            None
        },
    })
}

/// The region chosen in a submitted picker, from the values of its drop-downs in form order
/// (`RawForm::all(name)`): the deepest value that continues the chain from the province down.
/// Without JavaScript a stale lower level can remain after a higher one changed; it is ignored.
/// An empty province means "none". A first value that is not a region comes back unchanged (the
/// picker offers a current non-region value as it is), for the field's validation to judge.
pub async fn submitted(db: &Db, values: &[&str]) -> AppResult<Option<String>> {
    let mut chosen: Option<Region> = None;
    for v in values.iter().map(|v| v.trim()) {
        if v.is_empty() {
            break;
        }
        let region = match regions::get(db, v).await {
            Ok(r) => r,
            Err(StoreError::NotFound) if chosen.is_none() => return Ok(Some(v.to_owned())),
            Err(StoreError::NotFound) => break,
            Err(e) => return Err(e.into()),
        };
        if let Some(above) = &chosen
            && region.parent_code.as_deref() != Some(above.code.as_str())
        {
            break;
        }
        chosen = Some(region);
    }
    Ok(chosen.map(|r| r.code))
}
