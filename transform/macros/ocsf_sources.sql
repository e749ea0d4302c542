{#- What OCSF says of a row of `int_ocsf_activity`: the product that logged it, its vendor (= the
    cloud provider), and the API service it was made through. -#}
{% macro ocsf_product(stream) -%}
case {{ stream }}
    when 'twilio_monitor_events' then 'Twilio Monitor Events'
    when 'twilio_taskrouter_events' then 'Twilio TaskRouter Events'
    when 'telnyx_audit_events' then 'Telnyx Audit Logs'
end
{%- endmacro %}

{% macro ocsf_vendor(provider) -%}
case {{ provider }} when 'twilio' then 'Twilio' when 'telnyx' then 'Telnyx' else {{ provider }} end
{%- endmacro %}

{% macro ocsf_service(provider, interface) -%}
case
    when {{ interface }} = 'web' then {{ ocsf_vendor(provider) }} || ' Console'
    when {{ interface }} = 'api' then {{ ocsf_vendor(provider) }} || ' API'
    else {{ ocsf_vendor(provider) }}
end
{%- endmacro %}

{#- The incremental models' filter: only events whose uid the model does not hold yet. -#}
{% macro ocsf_new_events_only(uid) -%}
{% if is_incremental() %}
where not exists (select 1 from {{ this }} as known where known.event_uid = {{ uid }})
{% endif %}
{%- endmacro %}
