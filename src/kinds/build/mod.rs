//! The first kind: builds, plain (`kind: Build`) and made from a template
//! (`kind: TemplateBuild`), which are one Zadig resource.
//!
//! Its parts are not moved here yet (see the note of issue 15d): the spec
//! types are [`crate::core::model::BuildDef`] and friends, validation
//! [`crate::core::validate::check_build`], normalisation
//! [`crate::core::normalize`], the credential walker
//! [`BuildDef::credentials`] with [`crate::core::secrets`], the preserving
//! write [`crate::core::preserve`], the import form [`crate::core::import`],
//! and the client's endpoints `zadig::builds`. This module gives the engine
//! what the registry needs: a build's [`Address`].

pub mod shell;

use super::{Address, KindId};
use crate::core::model::{BuildDef, ParamValue};

/// A build's address: project and name.
pub fn address(def: &BuildDef) -> Address {
    Address::in_project(KindId::Build, def.project_key(), def.name())
}

/// The credential values of a build, with their paths: the kind's one walker.
pub fn credentials(def: &BuildDef) -> Vec<(String, &ParamValue)> {
    def.credentials()
}
