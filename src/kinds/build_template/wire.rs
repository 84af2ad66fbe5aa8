//! The build-template library on the wire (`/api/aslan/template/build…`),
//! read in koderover/zadig `main` 18278c716 (unchanged since v4.2.0):
//! `models.BuildTemplate` (`common/repository/models/build_template.go`), the
//! list answer `BuildTemplateListResp` and the reference entries
//! `template.BuildTemplateReference` (`common/service/template/types.go`).
//!
//! Read tolerantly like the other wire types (unknown fields kept aside,
//! missing ones defaulted, `null` lists empty). The list answer and its briefs
//! are [`crate::zadig::wire::BuildTemplateList`] and [`crate::zadig::wire::NamedId`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::zadig::wire::{Output, PostBuild, PreBuild, null_default};

/// `models.BuildTemplate`: `GET /api/aslan/template/build/:id`, and the body of
/// `POST /api/aslan/template/build` and `PUT …/:id` (build-api-ui-made.md §10).
///
/// A plain build's stored model without project, repositories and targets.
/// `pre_build.envs` are the template's variables. The server ignores `id` in
/// a body; it sets `update_by` on create only and never `update_time`.
/// Credential variables are neither masked on read nor restored from
/// `********` on write.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BuildTemplateModel {
    /// Mongo id (hex).
    #[serde(default)]
    pub id: String,
    /// Name (unique; the `template_name` of template builds).
    #[serde(default)]
    pub name: String,
    /// Team (omitted when empty; kept by an update that sends none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub team: String,
    /// Source (omitted when empty; kept by an update that sends none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Minutes.
    #[serde(default)]
    pub timeout: i64,
    /// Unix seconds, as the last body said (not stamped by the server).
    #[serde(default)]
    pub update_time: i64,
    /// Set by a create; an update stores what its body says.
    #[serde(default)]
    pub update_by: String,
    /// Image, installs, variables, resources, cluster, strategy. A body
    /// without it makes aslan dereference nil (an empty 500).
    #[serde(default)]
    pub pre_build: Option<PreBuild>,
    /// Jenkins settings (omitted when nil).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_build: Option<Value>,
    /// `shell` / `batch_file` / `powershell`.
    #[serde(default)]
    pub script_type: String,
    /// The build script.
    #[serde(default)]
    pub scripts: String,
    /// Post-build settings; `null` in an update keeps the stored ones.
    #[serde(default)]
    pub post_build: Option<PostBuild>,
    /// Deprecated SSH ids.
    #[serde(default, deserialize_with = "null_default")]
    pub sshs: Vec<String>,
    /// Deprecated deploy script.
    #[serde(default)]
    pub pm_deploy_scripts: String,
    /// Cache on.
    #[serde(default)]
    pub cache_enable: bool,
    /// `workspace`, `user_defined` or "".
    #[serde(default)]
    pub cache_dir_type: String,
    /// Cache directory.
    #[serde(default)]
    pub cache_user_dir: String,
    /// UI flag.
    #[serde(default)]
    pub advanced_setting_modified: bool,
    /// Privileged pod.
    #[serde(default)]
    pub enable_privileged_mode: bool,
    /// Outputs.
    #[serde(default, deserialize_with = "null_default")]
    pub outputs: Vec<Output>,
    /// `kubernetes` / `vm`.
    #[serde(default)]
    pub infrastructure: String,
    /// VM agent labels.
    #[serde(default, deserialize_with = "null_default")]
    pub vm_labels: Vec<String>,
    /// Fields of a newer Zadig, kept as read so that a write sends them back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/aslan/template/build/:id/reference` entry
/// (`template.BuildTemplateReference`): a build whose `template_id` is the
/// template, in any project. The list is the blast radius of a template change.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BuildTemplateReference {
    /// Build name.
    #[serde(default)]
    pub build_name: String,
    /// Project key (`product_name`).
    #[serde(default)]
    pub project_name: String,
    /// The service modules of its targets, in order.
    #[serde(default, deserialize_with = "null_default")]
    pub service_module: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zadig::wire::{BuildTemplateList, NamedId};
    use serde_json::json;

    /// Every json tag of `models.BuildTemplate` and its nested structs, with
    /// non-empty values so that `omitempty` does not hide any.
    fn full_model() -> Value {
        json!({
            "id": "65c000000000000000000001",
            "name": "go-service-template",
            "team": "platform",
            "source": "zadig",
            "timeout": 60,
            "update_time": 1760000000,
            "update_by": "Alice",
            "pre_build": {
                "clean_workspace": true,
                "res_req": "define",
                "res_req_spec": {"cpu_limit": 4000, "memory_limit": 8192, "cpu_req": 1000,
                                 "memory_req": 1024, "gpu_limit": "nvidia.com/gpu: 1"},
                "build_os": "focal",
                "image_from": "koderover",
                "image_id": "64f0c30000000000000000a1",
                "installs": [{"name": "go", "version": "1.22"}],
                "envs": [{"key": "GO_VERSION", "value": "1.21", "type": "choice",
                          "registry_id": "r1", "choice_option": ["1.21", "1.22"],
                          "choice_value": ["1.21"], "script": "echo", "call_function": "f",
                          "function_reference": ["f"], "file_path": "/p", "file_name": "n",
                          "file_id": "i", "is_credential": true, "description": "d",
                          "required": true}],
                "enable_proxy": true,
                "parameters": [{"name": "P", "default_value": "v",
                                "param_val": [{"target": "t", "value": "v"}]}],
                "upload_pkg": true,
                "cluster_id": "0123456789abcdef12345678",
                "cluster_source": "fixed",
                "strategy_id": "65b000000000000000000001",
                "use_host_docker_daemon": true,
                "storages": {"enabled": true, "storages_properties": [
                    {"provision_type": "dynamic", "storage_class": "nfs",
                     "storage_size_in_gib": 10, "pvc": "pvc", "access_mode": "ReadWriteMany",
                     "subpath": "s", "mount_path": "/m", "is_temporary": true}]},
                "custom_annotations": [{"key": "a", "value": "b"}],
                "custom_labels": [{"key": "l", "value": 1}],
                "namespace": "ns"
            },
            "jenkins_build": {"jenkins_id": "j", "job_name": "job",
                              "jenkins_build_params": [{"name": "n", "value": "v"}]},
            "script_type": "shell",
            "scripts": "make\n",
            "post_build": {
                "docker_build": {"work_dir": "w", "docker_file": "Dockerfile", "build_args": "a",
                                 "source": "local", "template_id": "t", "template_name": "tn",
                                 "enable_buildkit": true, "platform": "linux/amd64"},
                "object_storage_upload": {"enabled": true, "object_storage_id": "o",
                                          "upload_detail": [{"file_path": "f",
                                                             "abs_file_path": "a",
                                                             "dest_path": "d"}]},
                "file_archive": {"file_location": "l"},
                "scripts": "echo post"
            },
            "sshs": ["s1"],
            "pm_deploy_scripts": "deploy",
            "cache_enable": true,
            "cache_dir_type": "user_defined",
            "cache_user_dir": "/cache",
            "advanced_setting_modified": true,
            "enable_privileged_mode": true,
            "outputs": [{"name": "IMAGE", "description": "the image"}],
            "infrastructure": "kubernetes",
            "vm_labels": ["linux"]
        })
    }

    #[test]
    fn the_model_round_trips_every_json_tag() {
        let v = full_model();
        let model: BuildTemplateModel = serde_json::from_value(v.clone()).expect("decodes");
        assert!(model.extra.is_empty(), "{:?}", model.extra);
        assert_eq!(serde_json::to_value(&model).expect("encodes"), v);
    }

    #[test]
    fn the_model_reads_nulls_and_keeps_unknown_fields() {
        let model: BuildTemplateModel = serde_json::from_value(json!({
            "id": "65c000000000000000000001", "name": "t", "pre_build": null,
            "post_build": null, "sshs": null, "outputs": null, "vm_labels": null,
            "future_field": {"x": 1}
        }))
        .expect("decodes");
        assert_eq!(model.pre_build, None);
        assert!(model.outputs.is_empty());
        assert_eq!(model.extra.get("future_field"), Some(&json!({"x": 1})));
        let back = serde_json::to_value(&model).expect("encodes");
        assert_eq!(back["future_field"], json!({"x": 1}));
        // team, source and jenkins_build are omitempty, as in the struct tags.
        assert!(back.get("team").is_none() && back.get("jenkins_build").is_none());
        assert_eq!(back["post_build"], Value::Null);
    }

    #[test]
    fn the_list_and_the_references_round_trip() {
        // `BuildTemplateListResp`: `total` is omitempty.
        let v = json!({"build_templates": [{"id": "65c000000000000000000001",
                                            "name": "go-service-template"}], "total": 1});
        let list: BuildTemplateList = serde_json::from_value(v.clone()).expect("decodes");
        assert_eq!(
            list.build_templates,
            [NamedId {
                id: "65c000000000000000000001".to_owned(),
                name: "go-service-template".to_owned()
            }]
        );
        assert_eq!(serde_json::to_value(&list).expect("encodes"), v);
        let empty: BuildTemplateList =
            serde_json::from_value(json!({"build_templates": null})).expect("decodes");
        assert_eq!(empty.total, 0);
        assert_eq!(
            serde_json::to_value(&empty).expect("encodes"),
            json!({"build_templates": []})
        );

        let v =
            json!([{"build_name": "b", "project_name": "demo", "service_module": ["m1", "m2"]}]);
        let refs: Vec<BuildTemplateReference> = serde_json::from_value(v.clone()).expect("decodes");
        assert_eq!(refs[0].service_module, ["m1", "m2"]);
        assert_eq!(serde_json::to_value(&refs).expect("encodes"), v);
        let r: BuildTemplateReference =
            serde_json::from_value(json!({"build_name": "b", "service_module": null}))
                .expect("decodes");
        assert!(r.service_module.is_empty());
    }
}
