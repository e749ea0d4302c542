{#- OCSF 1.1 Authentication (3002), Logon: a Console login (Monitor `user-session.created`, var
    `login_event_types`), by the user it names, from its source IP, into the provider's Console.
    A login event records a session made, so its status is Success; the session's SID is
    `session.uid`, its resource type (`user-session`) under `unmapped`. README "Into a SIEM". -#}
{{ config(materialized='incremental', unique_key='event_uid', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

with logins as (
    select * from {{ ref('int_ocsf_activity') }} where ocsf_class = 'authentication'
)

select
    {{ ocsf_columns('source_record_id', 3002, 1, 'occurred_at', 'provider', 'account_id',
        ocsf_base_pairs(3002, 'Authentication', 3, 'Identity & Access Management', 1, "'Logon'",
            'source_record_id', 'occurred_at', 1, "'Informational'", ocsf_product('stream'), ocsf_vendor('provider'),
            'stream', 'event_type', ocsf_vendor('provider'), 'account_id', 'loaded_at')
        + [
            ('message', 'message'),
            ('status_id', 1),
            ('status', "'Success'"),
            ('user', json_object_of([('uid', 'actor_id'), ('type', 'actor_type')])),
            ('actor', ocsf_actor('actor_id', 'actor_type', 'provider')),
            ('src_endpoint', ocsf_src_endpoint('source_ip', 'interface', 'provider')),
            ('service', json_object_of([('name', ocsf_service('provider', 'interface'))])),
            ('session', json_object_of([('uid', 'resource_id')])),
            ('unmapped', json_with_members('unmapped', [('resource_type', 'resource_type')])),
        ]) }}
from logins
{{ ocsf_new_events_only('source_record_id') }}
