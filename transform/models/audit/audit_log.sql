{#- The account-change subset of `activity` (Twilio Monitor Events and Telnyx audit events): who
    changed what, from where, when — for auditors. A view: nothing to rebuild. -#}
{{ config(materialized='view') }}

select *
from {{ ref('activity') }}
where category = 'account_change'
