import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Scraper, type ScraperDeps } from './scraper.js';

const SCRAPER = Symbol('scraper');

@Injectable()
class ScraperLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(SCRAPER) private readonly scraper: Scraper) {}
  onApplicationBootstrap() {
    return this.scraper.start();
  }
  onApplicationShutdown() {
    return this.scraper.stop();
  }
}

@Module({})
export class ScraperModule {
  static forRoot(deps: ScraperDeps): DynamicModule {
    return {
      module: ScraperModule,
      providers: [{ provide: SCRAPER, useValue: new Scraper(deps) }, ScraperLifecycle],
    };
  }
}
