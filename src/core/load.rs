//! Loading definition files into [`super::model`] types.
