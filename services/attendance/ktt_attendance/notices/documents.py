"""The TT3 absence notice as a printable PDF in Finnish or Swedish (ATT-6). The attendance
service never knows the hetu (DATA-4): the official adds it from the client information system."""

from __future__ import annotations

from ktt_attendance.notices.models import AbsenceNotice
from ktt_attendance.pdf import LANGUAGES, fi_date, labelled_rows, language, latin1, new_document

__all__ = ["LANGUAGES", "TEXTS", "language", "render_pdf"]

TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Ilmoitus poissaoloista kuntouttavasta työtoiminnasta (Kela TT3)",
        "city": "Turun kaupunki",
        "recipient": "Vastaanottaja", "kela": "Kela", "unemployment_fund": "Työttömyyskassa",
        "client": "Asiakas (tunniste)", "hetu": "Henkilötunnus lisätään asiakastietojärjestelmästä.",
        "period": "Tarkastelujakso", "days": "Poissaolopäivät", "date": "Päivä", "reason": "Syy", "authorised": "Luvallinen",
        "yes": "kyllä", "no": "ei", "authority": "Poissaolot voivat johtaa toiminnan keskeyttämiseen: ilmoitus myös työvoimaviranomaiselle.",
        "total": "Poissaoloja yhteensä {n}, joista luvattomia {u}.",
        "sick_with_certificate": "sairaus, todistus", "sick_without_certificate": "sairaus, ei todistusta",
        "doctor_visit": "lääkärikäynti", "child_illness": "lapsen sairaus", "job_interview": "työhaastattelu",
        "other_authorised": "muu sovittu poissaolo", "unauthorised": "luvaton poissaolo",
        "sent_away_influence": "päihtyneenä, lähetetty pois",
    },
    "sv": {
        "title": "Anmälan om frånvaro från arbetsverksamhet i rehabiliteringssyfte (FPA TT3)",
        "city": "Åbo stad",
        "recipient": "Mottagare", "kela": "FPA", "unemployment_fund": "Arbetslöshetskassa",
        "client": "Klient (identifierare)", "hetu": "Personbeteckningen fylls i från klientdatasystemet.",
        "period": "Granskningsperiod", "days": "Frånvarodagar", "date": "Dag", "reason": "Orsak", "authorised": "Tillåten",
        "yes": "ja", "no": "nej", "authority": "Frånvaron kan leda till avbrott: anmälan även till arbetskraftsmyndigheten.",
        "total": "Frånvaro sammanlagt {n}, varav otillåten {u}.",
        "sick_with_certificate": "sjukdom, intyg", "sick_without_certificate": "sjukdom, inget intyg",
        "doctor_visit": "läkarbesök", "child_illness": "barns sjukdom", "job_interview": "arbetsintervju",
        "other_authorised": "annan överenskommen frånvaro", "unauthorised": "otillåten frånvaro",
        "sent_away_influence": "påverkad, skickad hem",
    },
}


def render_pdf(notice: AbsenceNotice, lang: str) -> bytes:
    t = TEXTS[lang]
    pdf = new_document(t["title"], t["city"])
    pdf.ln(2)
    recipient = t[notice.recipient] + (f" ({notice.fund_name})" if notice.fund_name else "")
    labelled_rows(pdf, ((t["recipient"], recipient), (t["client"], str(notice.client_id)),
                        (t["period"], f"{fi_date(notice.period_start)} - {fi_date(notice.period_end)}")), 50)
    pdf.set_font("Helvetica", "I", 9)
    pdf.cell(0, 6, latin1(t["hetu"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, latin1(t["days"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(30, 7, latin1(t["date"]), border=1)
    pdf.cell(100, 7, latin1(t["reason"]), border=1)
    pdf.cell(30, 7, latin1(t["authorised"]), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for day in notice.days:
        pdf.cell(30, 7, latin1(fi_date(day["date"])), border=1)
        pdf.cell(100, 7, latin1(t.get(day["reason"] or "", day["reason"] or "")), border=1)
        pdf.cell(30, 7, latin1(t["yes"] if day["authorised"] else t["no"]), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, latin1(t["total"].format(n=notice.absence_days, u=notice.unauthorised_days)),
                   new_x="LMARGIN", new_y="NEXT")
    if notice.to_employment_authority:
        pdf.multi_cell(0, 6, latin1(t["authority"]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
