import { Router } from 'express';
import { ME_PATH, pageSubscriber } from '../consent-session.js';
import type { AppContext } from '../context.js';
import { messagePage } from '../pages/layout.js';
import { HELP_PATH, PRIVACY_PATH, TERMS_PATH } from '../pages/paths.js';
import { pageKit, sendHtml } from '../pages/render.js';

/**
 * The pages every footer links to. Terms and privacy need nobody signed in;
 * help names the visitor's operator when a session says who it is, since the
 * operator's customer service is who answers for the bill.
 */
export function infoPageRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(TERMS_PATH, (req, res) => {
    const kit = pageKit(req, res);
    sendHtml(
      res,
      200,
      messagePage(kit.shell(kit.m.termsTitle, null), { title: kit.m.termsTitle, paragraphs: kit.m.terms }),
    );
  });

  router.get(PRIVACY_PATH, (req, res) => {
    const kit = pageKit(req, res);
    sendHtml(
      res,
      200,
      messagePage(kit.shell(kit.m.privacyTitle, null), { title: kit.m.privacyTitle, paragraphs: kit.m.privacy }),
    );
  });

  router.get(HELP_PATH, async (req, res) => {
    const kit = pageKit(req, res);
    const { m } = kit;
    const who = await pageSubscriber(ctx, req, res);
    if (who === 'redirected') return;
    const brand = who?.subscriber.operator.brand ?? null;
    sendHtml(
      res,
      200,
      messagePage(kit.shell(m.helpTitle, brand), {
        title: m.helpTitle,
        paragraphs: [brand ? m.helpOperator(brand) : m.helpNoOperator, m.helpPublisher, m.helpDispute],
        links: [{ href: ME_PATH, label: m.meLink }],
      }),
    );
  });

  return router;
}
