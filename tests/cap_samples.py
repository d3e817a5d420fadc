"""CAP 1.2 messages for the tests: one valid plague alert, and ways to break it."""

from __future__ import annotations

VALID = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>NMG-CDC-2026-0042</identifier>
  <sender>cdc.ulanqab.example</sender>
  <sent>2026-11-30T09:15:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Restricted</scope>
  <restriction>Health authorities</restriction>
  <info>
    <language>zh-CN</language>
    <category>Health</category>
    <event>鼠疫疑似病例</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <eventCode><valueName>disease</valueName><value>plague</value></eventCode>
    <eventCode><valueName>incident_type</valueName><value>suspected_case</value></eventCode>
    <effective>2026-11-30T08:40:00+08:00</effective>
    <senderName>乌兰察布市疾控中心</senderName>
    <headline>察右后旗疑似鼠疫病例</headline>
    <description>牧民发热、咳嗽，疑似肺鼠疫</description>
    <contact>0474-1234567</contact>
    <parameter><valueName>patients</valueName><value>2</value></parameter>
    <area>
      <areaDesc>察右后旗白音察干镇</areaDesc>
      {area}
    </area>
  </info>
</alert>
"""

POLYGON = ("<polygon>41.40,113.10 41.40,113.20 41.46,113.20 41.46,113.10 "
           "41.40,113.10</polygon>")
CIRCLE = "<circle>41.43,113.15 2.5</circle>"


def alert(area: str = POLYGON) -> bytes:
    return VALID.replace("{area}", area).encode("utf-8")


def swap(text: str, old: str, new: str, area: str = POLYGON) -> bytes:
    body = VALID.replace("{area}", area)
    assert old in body, old
    return body.replace(old, new).encode("utf-8")
