{#- OCSF 1.1 Account Change (3001): a credential of the account created, rotated or deleted (the
    events detect_credential_changes finds: Twilio API keys, auth tokens, passwords, SIP
    credentials; Telnyx API keys). The `user` is the principal the credential is: an API key
    (Twilio's API keys sign requests as the account, by their SID), or the account itself for its
    auth token. Created -> Create, deleted -> Delete, rotated (auth token promoted) or a password
    updated -> Password Change, anything else Other. What changed is in `unmapped.changes`
    (Account Change has no attribute for it). README "Into a SIEM". -#}
{{ config(materialized='incremental', unique_key='event_uid', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

with changes_ as (
    select
        *,
        case
            when credential_action = 'created' then 1
            when credential_action = 'deleted' then 6
            when credential_action = 'rotated' then 3
            when credential_action = 'updated' and resource_type in ('user-password', 'account-auth-token') then 3
            else 99
        end as activity_id
    from {{ ref('int_ocsf_activity') }}
    where ocsf_class = 'account_change'
)

select
    {{ ocsf_columns('source_record_id', 3001, 'activity_id', 'occurred_at', 'provider', 'account_id',
        ocsf_base_pairs(3001, 'Account Change', 3, 'Identity & Access Management', 'activity_id',
            "case activity_id when 1 then 'Create' when 6 then 'Delete' when 3 then 'Password Change' else event_type end",
            'source_record_id', 'occurred_at', 1, "'Informational'", ocsf_product('stream'), ocsf_vendor('provider'),
            'stream', 'event_type', ocsf_vendor('provider'), 'account_id', 'loaded_at')
        + [
            ('message', 'message'),
            ('user', json_object_of([
                ('uid', 'coalesce(resource_id, account_id)'),
                ('name', 'alternate_resource_id'),
                ('type', "coalesce(resource_type, 'credential')"),
                ('type_id', 99),
                ('account', json_object_of([('uid', 'account_id')])),
            ])),
            ('actor', ocsf_actor('actor_id', 'actor_type', 'provider')),
            ('src_endpoint', ocsf_src_endpoint('source_ip', 'interface', 'provider')),
            ('api', json_object_of([
                ('operation', 'event_type'),
                ('service', json_object_of([('name', ocsf_service('provider', 'interface'))])),
            ])),
            ('unmapped', json_with_members('unmapped', [('changes', 'changes')])),
        ]) }}
from changes_
{{ ocsf_new_events_only('source_record_id') }}
