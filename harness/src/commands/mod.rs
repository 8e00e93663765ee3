//! Commands that are not a pipeline stage of their own: `list` and `knn`. (`compare`, `check`,
//! `report`, `regress` and `selftest` live with the code they drive.)

pub mod knn;
pub mod list;
