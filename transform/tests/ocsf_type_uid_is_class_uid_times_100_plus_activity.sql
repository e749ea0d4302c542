{#- OCSF's rule the JSON schema cannot check: type_uid = class_uid * 100 + activity_id, in the
    column and in the event alike, and class_uid the same in both. Rows returned fail the test. -#}
{%- for model in ['ocsf_api_activity', 'ocsf_authentication', 'ocsf_account_change', 'ocsf_detection_finding'] %}
select '{{ model }}' as model, event_uid
from {{ ref(model) }}
where type_uid <> class_uid * 100 + {{ json_integer('event', 'activity_id') }}
   or {{ json_integer('event', 'type_uid') }} <> type_uid
   or {{ json_integer('event', 'class_uid') }} <> class_uid
{{ "union all" if not loop.last }}
{%- endfor %}
