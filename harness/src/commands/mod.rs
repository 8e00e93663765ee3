//! Commands that are not a pipeline stage of their own: `list`, `knn` and `embed`. (`compare`, `check`,
//! `report`, `regress` and `selftest` live with the code they drive.)

pub mod embed;
pub mod knn;
pub mod list;
